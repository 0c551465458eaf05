// io/src/raw_vlen_strings.hpp — variable-length strings read from the file's bytes (not
// installed). HDF5 converts a variable-length string element by element: it looks the
// string's global heap collection up in its metadata cache, copies it into a buffer it
// allocated, and the reader copies it again into a std::string (about 130 ns a string,
// most of health.incidence's read time on data.generate's shards). A contiguous,
// unfiltered dataset stores each element as (length, heap collection address, object
// index) at a known offset, and a collection is one block of bytes: this reads the
// elements and the collections with pread and builds the strings straight from them.
//
//   auto raw = RawVlenStrings::open(file_path, file_id, dataset, rows, disk_offset_in_record, record_bytes);
//   if (raw && raw->read(begin, n, values)) { ... } else { /* HDF5's own path */ }
//
// Only what parses exactly as HDF5's format is read this way (file format spec, "Global
// Heap"; HDF5 1.10's H5HGcache.c, H5Tvlen.c): anything else, a damaged collection included,
// makes read() return false with `out` as it was, and the caller reads through HDF5, which
// reports the damage as it always has. The strings are HDF5's: up to the first NUL.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pearl::io::detail {

class RawVlenStrings {
 public:
  /// For the variable-length string stored at byte `member` of each `record`-byte element
  /// of `dataset` (a column: member 0, record = the element's size on disk; 0 asks for
  /// that size) in `file` (open in HDF5 as `file_id`), with `rows` rows; nullptr when the
  /// dataset is not contiguous and unfiltered in a file this can read, or its sizes do not
  /// add up.
  static std::unique_ptr<RawVlenStrings> open(const std::filesystem::path& file, hid_t file_id, hid_t dataset,
                                              std::uint64_t rows, std::size_t member = 0, std::size_t record = 0);

  /// The same for member `name` of a compound `dataset`, at its disk offset
  /// (compound_disk_layout, raw_records.hpp); nullptr when that is not possible.
  static std::unique_ptr<RawVlenStrings> open_member(const std::filesystem::path& file, hid_t file_id, hid_t dataset,
                                                     std::uint64_t rows, const std::string& name);

  RawVlenStrings(const RawVlenStrings&) = delete;
  RawVlenStrings& operator=(const RawVlenStrings&) = delete;
  ~RawVlenStrings();

  /// Appends rows [begin, begin + n) to `out`; false, with `out` as it was, when any of
  /// them does not parse (then read them through HDF5).
  bool read(std::uint64_t begin, std::uint64_t n, std::vector<std::string>& out);

  /// A row whose string claims more bytes than the whole file: damaged beyond what HDF5
  /// survives (it allocates what the length claims, up to 4 GiB, then reads past the heap).
  struct Damage {
    std::uint64_t row;
    std::uint64_t length;
  };
  /// Set when the last read() returned false for such a row: then the caller reports it
  /// instead of handing the rows to HDF5.
  [[nodiscard]] const std::optional<Damage>& damage() const noexcept { return damage_; }

  /// Bytes of one element on disk: 4 (length) + an address + 4 (object index).
  [[nodiscard]] std::size_t element_bytes() const noexcept { return 8 + addr_bytes_; }

 private:
  struct Object {
    std::uint64_t at;    // offset of its data in the collection's bytes
    std::uint64_t size;  // bytes
  };
  struct Collection {
    std::uint64_t addr = 0;  // 0: an empty slot
    std::vector<char> bytes;
    std::vector<Object> objects;  // by object index; size 0 at an index not present
  };
  RawVlenStrings() = default;
  /// The collection at heap address `addr`, read and parsed when it is not among the last
  /// few read; nullptr if it does not parse.
  const Collection* collection(std::uint64_t addr);
  bool read_at(void* into, std::size_t n, std::uint64_t offset) const;

  int fd_ = -1;
  std::uint64_t file_bytes_ = 0;
  std::uint64_t base_ = 0;     // file offset of address 0 (the user block's size)
  std::uint64_t data_ = 0;     // file offset of the dataset's first record
  std::uint64_t rows_ = 0;
  std::size_t addr_bytes_ = 8;  // the file's sizeof_addr
  std::size_t len_bytes_ = 8;   // the file's sizeof_size
  std::size_t member_ = 0;
  std::size_t record_ = 0;
  std::vector<unsigned char> elements_;  // one block of raw records, reused
  std::vector<Collection> collections_;  // a few slots, reused in turn (their buffers too)
  std::size_t next_slot_ = 0;
  std::optional<Damage> damage_;
};

}  // namespace pearl::io::detail
