// io/src/table_reader_impl.hpp — the table reader's private state, shared by its parts
// (not installed):
//   table_reader.cpp     construction, the per-column plan (check), read dispatch
//   table_layout.cpp     layout detection at open: columnar group or compound dataset
//   pandas_layouts.cpp   pandas' layouts pearl refuses, and how to rewrite them
//   read_columnar.cpp    the columnar read path (one dataset per column)
//   read_compound.cpp    the compound read path (one dataset, projected members)
//   checked_conversion.hpp  stored values to contract types, checked value by value
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pearl/core/table.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/stored_type.hpp"
#include "pearl/io/table_info.hpp"
#include "pearl/io/table_reader.hpp"

#include "h5util.hpp"
#include "direct_chunks.hpp"
#include "raw_records.hpp"
#include "raw_vlen_strings.hpp"

namespace pearl::io {

namespace detail {

/// Rows per block on the paths that need a staging buffer (checked numbers, strings).
constexpr std::uint64_t kBlockRows = 1 << 16;
/// Bytes of staging buffer for one block of a compound read.
constexpr std::size_t kCompoundBlockBytes = std::size_t{4} << 20;
/// The widest compound record read: a type may claim up to 4 GiB (see
/// kMaxFixedStringBytes, stored_type.hpp); a table's rows are far narrower.
constexpr std::size_t kMaxRecordBytes = std::size_t{1} << 20;

/// What read() does for one requested column.
struct ReadPlan {
  const ColumnSpec* spec;
  std::size_t column;  // index into TableInfo::columns
  Conversion conv;
};

/// A hyperslab of rows [begin, begin + count) of a 1-D dataset and the matching memory space.
struct Selection {
  Handle file;
  Handle mem;
};

Selection select_rows(hid_t dataset, std::uint64_t begin, std::uint64_t count, const std::string& what);

/// Reads the selected rows into `buf` (memory type `mem_type`); a failure is an
/// InputError naming rows begin..begin + count.
void read_rows(hid_t dataset, hid_t mem_type, const Selection& sel, void* buf, const std::string& what,
               std::uint64_t begin, std::uint64_t count, hid_t transfer = H5P_DEFAULT);

}  // namespace detail

struct TableReader::Impl {
  std::shared_ptr<const File> file;
  Handle compound;                 // compound layout: the dataset
  std::vector<Handle> datasets;    // columnar layout: one per column, parallel to info.columns
  std::vector<Handle> types;       // file type per column (compound: the member's type)
  std::vector<std::byte> scratch;  // staging for converted and compound reads, kept across batches
  std::unique_ptr<detail::VlenArena> strings;  // variable-length strings, made on the first read of one
  /// Per column, variable-length strings read from the file's bytes where the dataset
  /// allows (raw_vlen_strings.hpp); null: not tried yet, or not possible (see raw_tried).
  std::vector<std::unique_ptr<detail::RawVlenStrings>> raw_strings;
  std::vector<bool> raw_tried;

  /// The raw reader of column `column`'s variable-length strings, or nullptr.
  detail::RawVlenStrings* raw_vlen(const TableInfo& info, std::size_t column);
  /// Rows [begin, begin + n) of variable-length string column `column` appended to `out`
  /// through raw_vlen; false (out as it was) when they must be read through HDF5. Throws
  /// InputError for a string longer than the file, which HDF5 does not survive.
  bool read_raw_vlen(const TableInfo& info, std::size_t column, std::uint64_t begin, std::uint64_t n,
                     std::vector<std::string>& out);
  /// A compound table's records read as stored (raw_records.hpp), made on first use; null
  /// where not possible (see records_tried).
  std::unique_ptr<detail::RawRecords> records;
  bool records_tried = false;
  /// Per column of a columnar table, its gzip chunks read whole and inflated by libdeflate
  /// (direct_chunks.hpp); null where not possible.
  std::vector<std::unique_ptr<detail::DirectChunks>> direct;
  std::vector<bool> direct_tried;
  /// Rows [begin, begin + n) of column `column` as the file stores them into `out` through
  /// its DirectChunks, when the column has them, the rows start on a chunk, and the file
  /// type is `mem_type`; false otherwise (then read them through HDF5).
  bool read_direct(const TableInfo& info, std::size_t column, hid_t mem_type, std::uint64_t begin, std::uint64_t n,
                   void* out);

  detail::VlenArena& vlen_arena() {
    if (!strings) strings = std::make_unique<detail::VlenArena>();
    return *strings;
  }

  /// scratch as at least `bytes` bytes (grown, never shrunk: no allocation per batch).
  std::byte* staging(std::size_t bytes) {
    if (scratch.size() < bytes) scratch.resize(bytes);
    return scratch.data();
  }

  void open(TableInfo& info);
  void open_group(TableInfo& info, Handle group);
  void open_compound(TableInfo& info, Handle dataset, const std::string& object);

  std::vector<detail::ReadPlan> plan(const TableInfo& info, const std::vector<ColumnSpec>& projection) const;
  void read_columnar(const TableInfo& info, const detail::ReadPlan& p, std::uint64_t begin, std::uint64_t n,
                     ColumnData& out);
  void read_compound(const TableInfo& info, const std::vector<detail::ReadPlan>& plans, std::uint64_t begin,
                     std::uint64_t n, std::vector<ColumnData>& out);
  /// The members of `plans` not marked in `skip`, through HDF5.
  void read_compound_members(const TableInfo& info, const std::vector<detail::ReadPlan>& plans,
                             const std::vector<bool>& skip, std::uint64_t begin, std::uint64_t n,
                             std::vector<ColumnData>& out);
};

}  // namespace pearl::io
