// io/src/raw_records.hpp — the records of a contiguous, unfiltered compound dataset read
// with pread, as they lie in the file (not installed). HDF5 converts a compound read
// record by record and member by member into the packed memory type the reader asks for
// (H5T_conv_struct): 8x slower than reading the same columns from a columnar table
// (bench/io scan, data.generate's compound contributions shard). When a member's file type
// is the memory type the reader would ask for (native byte order), its bytes can be taken
// from the raw record as they are.
//
//   auto raw = RawRecords::open(path, file_id, dataset, rows);        // nullptr: not possible
//   std::size_t at = raw->offset_of("paid");                         // npos: absent
//   if (raw->read(begin, n, buffer)) { /* record i at buffer + i * raw->record() */ }
//
// The disk layout differs from what HDF5 reports only by variable-length strings, which
// take a pointer in memory and 16 bytes on disk: compound_disk_layout recomputes it as
// H5T_set_loc shifts the members, for records of numbers and strings only, and open()
// checks it against the dataset's storage size.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pearl::io::detail {

/// A compound type's members where they are in the file.
struct DiskLayout {
  struct Member {
    std::string name;
    std::size_t offset;  // in the record, on disk
    std::size_t size;    // bytes on disk
    bool vlen_string;
  };
  std::size_t record = 0;  // bytes of one record on disk
  std::vector<Member> members;
};

/// The disk layout of `dataset`'s compound type in the file `file_id`; nullopt when the
/// type holds anything but integers, floats and strings (their sizes may also differ), or
/// a member does not lie within the record (a damaged type).
std::optional<DiskLayout> compound_disk_layout(hid_t file_id, hid_t dataset);

class RawRecords {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  /// For `dataset` (a compound with `rows` records) of `file`; nullptr when it is not
  /// contiguous and unfiltered, or its layout does not add up to its storage.
  static std::unique_ptr<RawRecords> open(const std::filesystem::path& file, hid_t file_id, hid_t dataset,
                                          std::uint64_t rows);
  RawRecords(const RawRecords&) = delete;
  RawRecords& operator=(const RawRecords&) = delete;
  ~RawRecords();

  [[nodiscard]] std::size_t record() const noexcept { return layout_.record; }
  /// Where `member` starts in a record, or npos when it is absent or not `bytes` long.
  [[nodiscard]] std::size_t offset_of(const std::string& member, std::size_t bytes) const noexcept;
  /// Records [begin, begin + n) into `out` (n * record() bytes); false when the file ends
  /// first (changed since it was opened).
  bool read(std::uint64_t begin, std::uint64_t n, std::byte* out) const;

 private:
  RawRecords() = default;
  int fd_ = -1;
  std::uint64_t data_ = 0;  // file offset of the first record
  std::uint64_t rows_ = 0;
  DiskLayout layout_;
};

/// The dataset's first byte in the file and the file's size, when it is contiguous,
/// unfiltered, allocated and stores exactly `bytes` bytes within the file; with `fd` an
/// open descriptor of the file. nullopt otherwise.
struct ContiguousData {
  int fd;
  std::uint64_t offset;
  std::uint64_t file_bytes;
};
std::optional<ContiguousData> open_contiguous(const std::filesystem::path& file, hid_t dataset, std::uint64_t bytes);

/// Reads exactly n bytes at `offset` of `fd`; false when the file ends first or fails.
bool pread_all(int fd, void* into, std::size_t n, std::uint64_t offset) noexcept;

}  // namespace pearl::io::detail
