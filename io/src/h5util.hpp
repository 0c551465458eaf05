// io/src/h5util.hpp — private helpers shared by the reader and inspect: stored-type and
// storage description, link listing, string decoding. The type maps are hdf5_types.hpp.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pearl/core/table.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/table_info.hpp"

#include "hdf5_types.hpp"

namespace pearl::io::detail {

/// The contract's view of an HDF5 datatype.
StoredType describe_type(hid_t type);

/// Chunking and filters of a dataset.
StorageInfo storage_of(hid_t dataset, const std::string& what);

/// Opens dataset `name` under `loc` for reading. A chunked dataset without filters is
/// opened with HDF5's chunk cache off: the reader asks for whole chunks (or blocks of
/// 64 Ki rows), which HDF5 then reads straight into the caller's buffer instead of into
/// the cache and out again (bench/io: one copy of every byte fewer, a read-and-count
/// loop over 1 MiB chunks 0.19 -> 0.15 s). Filtered chunks keep the cache, so a block
/// smaller than a chunk does not decompress it again.
Handle open_for_reading(hid_t loc, const std::string& name, const StorageInfo& storage, const std::string& what);

/// Names of the links in a group, in name order.
std::vector<std::string> list_links(hid_t group, const std::string& what);

/// True when every component of the absolute `path` exists as a link in `file`.
bool path_exists(hid_t file, const std::string& path);

/// The dataspace dimensions of a dataset.
std::vector<hsize_t> dims_of(hid_t dataset, const std::string& what);

/// Where HDF5 puts the variable-length strings it reads: one arena of 1 MiB blocks, kept
/// from read to read, instead of a malloc per string and a free per string after
/// (H5Dvlen_reclaim walking the buffer again). Read with `transfer()` as the transfer
/// property list, copy the strings out, then `reset()`: every string read since is gone.
/// Not movable: HDF5 holds its address.
///
///   detail::VlenArena arena;
///   H5Dread(dset, str_type, mem, file, arena.transfer(), ptrs);   // ptrs[i] point into the arena
///   for (...) values.emplace_back(ptrs[i]);
///   arena.reset();
class VlenArena {
 public:
  VlenArena();
  VlenArena(const VlenArena&) = delete;
  VlenArena& operator=(const VlenArena&) = delete;
  ~VlenArena() = default;

  [[nodiscard]] hid_t transfer() const noexcept { return dxpl_.id(); }
  /// Drops every string allocated since the last reset (the blocks stay for the next read).
  void reset() noexcept;

 private:
  static constexpr std::size_t kBlock = std::size_t{1} << 20;
  static void* allocate(std::size_t bytes, void* arena) noexcept;
  static void release(void* /*mem*/, void* /*arena*/) noexcept {}  // reset() frees them all at once
  void* take(std::size_t bytes);

  Handle dxpl_;
  std::vector<std::unique_ptr<std::byte[]>> blocks_;  // 1 MiB each
  std::vector<std::unique_ptr<std::byte[]>> large_;   // strings longer than a block, until reset
  std::size_t current_ = 0;                           // blocks in use
  std::size_t used_ = 0;                              // bytes used in the last of them
};

/// A fixed-length string's value: up to the first NUL (null-terminated), without
/// trailing NULs (null-padded), without trailing spaces and NULs (space-padded).
std::string decode_fixed(const char* p, std::size_t size, StringPad pad);

}  // namespace pearl::io::detail
