// pearl/io/table_reader.hpp — one table in one shard: find it, describe it, read a
// projection of its columns over a row range, converted to contract types.
//
// The table is found at a path (default "/<table>"), stored either as a columnar group
// (one 1-D dataset per column) or as a 1-D compound dataset (h5py structured arrays;
// pandas `to_hdf(key, format="table", data_columns=True)`, found at "/<key>/table" when
// "/<key>" is asked for). pandas' block-packed layouts are refused with an InputError
// that says how to rewrite the file. See the contract, tables.md.
//
//   pearl::io::TableReader reader("cases-3.h5", "/cases");
//   const std::vector<pearl::ColumnSpec> cols{{"region_code", pearl::DType::u32}, {"age_years", pearl::DType::u8}};
//   reader.check(cols);                                  // InputError if missing / not convertible
//   auto data = reader.read(cols, 0, reader.rows());     // data[0]: vector<uint32_t>, data[1]: vector<uint8_t>
//
// Conversions are lossless or an error: a value that does not fit (int16 300 into
// uint8) throws InputError naming file, table, column, value and row, e.g.
//   "cases-3.h5: table /cases: column 'age_years': value 300 at row 17 does not fit uint8".
// When the stored type is the contract type, values are read straight into the result.
//
// Not thread-safe (neither is Debian's parallel HDF5): use a reader from one thread, as
// TableSource does from the engine's main thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pearl/core/table.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/table_info.hpp"

namespace pearl::io {

class TableReader {
 public:
  /// Opens `file` read-only and the table at `path` ("/cases"; a missing leading '/'
  /// is added). Throws InputError when the file is not a readable HDF5 file, when
  /// nothing is at `path`, or when what is there is not a table of the contract.
  TableReader(const std::filesystem::path& file, std::string_view path);
  /// The same in a file that is already open (inspect shares one file among tables).
  TableReader(std::shared_ptr<const File> file, std::string_view path);

  TableReader(TableReader&&) noexcept;
  TableReader& operator=(TableReader&&) noexcept;
  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;
  ~TableReader();

  /// Layout, rows, and each column's stored type and storage.
  [[nodiscard]] const TableInfo& info() const noexcept { return info_; }
  [[nodiscard]] std::uint64_t rows() const noexcept { return info_.rows; }

  /// Throws InputError naming file, table and column when a column of `projection` is
  /// missing, asked for twice, of a type that cannot convert to its contract type
  /// (naming stored and expected type), or compressed with a filter this HDF5 lacks.
  /// Value-dependent conversions are checked later, by `read`.
  void check(const std::vector<ColumnSpec>& projection) const;

  /// Rows per chunk of the projection's datasets (the largest, when columns differ),
  /// so callers can start batches on chunk boundaries; 0 when all are contiguous.
  [[nodiscard]] std::uint64_t chunk_rows(const std::vector<ColumnSpec>& projection) const;

  /// Rows [begin, end) of the projection's columns, one ColumnData per spec, each of
  /// the spec's contract type. Checks like `check`, then every value that needs it.
  /// Compound tables are read once for all requested members (and only those).
  [[nodiscard]] std::vector<ColumnData> read(const std::vector<ColumnSpec>& projection, std::uint64_t begin,
                                             std::uint64_t end);
  /// The same into `out`, reusing its vectors when they hold the projection's types (a
  /// recycled batch's columns): numeric columns of the same length are overwritten in
  /// place, without an allocation or zero-filling.
  void read_into(const std::vector<ColumnSpec>& projection, std::uint64_t begin, std::uint64_t end,
                 std::vector<ColumnData>& out);

 private:
  struct Impl;
  TableInfo info_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pearl::io
