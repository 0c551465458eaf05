// io/src/h5util.hpp — private helpers shared by the reader and inspect: stored-type and
// storage description, link listing, string decoding. The type maps are hdf5_types.hpp.
#pragma once

#include <hdf5.h>

#include <cstdint>
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

/// Frees the variable-length strings HDF5 allocated in `buf` (H5Dvlen_reclaim) when
/// destroyed, so exceptions while copying them out do not leak.
class VlenGuard {
 public:
  VlenGuard(hid_t mem_type, hid_t mem_space, void* buf) noexcept : type_(mem_type), space_(mem_space), buf_(buf) {}
  VlenGuard(const VlenGuard&) = delete;
  VlenGuard& operator=(const VlenGuard&) = delete;
  ~VlenGuard() {
    if (buf_ != nullptr) H5Dvlen_reclaim(type_, space_, H5P_DEFAULT, buf_);
  }

 private:
  hid_t type_;
  hid_t space_;
  void* buf_;
};

/// A fixed-length string's value: up to the first NUL (null-terminated), without
/// trailing NULs (null-padded), without trailing spaces and NULs (space-padded).
std::string decode_fixed(const char* p, std::size_t size, StringPad pad);

}  // namespace pearl::io::detail
