// pearl/io/table_info.hpp — what a reader found when it opened a table in one shard.
//
// The layout, the row count, and per column the stored type and the storage (chunking,
// filters). `TableReader::info()` returns it; `pearl inspect` prints it; the catalogue
// keeps the row counts.
//
//   const pearl::io::TableInfo& t = reader.info();
//   std::cout << t.path << ": " << layout_name(t.layout) << ", " << t.rows << " rows\n";
//   for (const auto& c : t.columns) std::cout << c.name << ' ' << c.stored.name() << ' ' << c.storage.describe() << '\n';
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "pearl/io/stored_type.hpp"

namespace pearl::io {

/// The two table layouts of the contract.
enum class Layout : std::uint8_t {
  columnar,  // a group with one 1-D dataset per column
  compound,  // one 1-D dataset of a compound type, one member per column
};

/// "columnar group" or "compound dataset".
std::string_view layout_name(Layout l) noexcept;

/// One HDF5 filter in a dataset's pipeline, in pipeline order.
struct Filter {
  int id = 0;                   // H5Z_filter_t: 1 deflate, 2 shuffle, 3 fletcher32, 4 szip, ...
  std::string name;             // the name stored with the filter (may be empty)
  std::vector<unsigned> params; // client data values; deflate: {level}
  bool available = true;        // this HDF5 build can decode it

  /// "gzip 4", "shuffle", "fletcher32", "szip", "filter 32001 (blosc)".
  [[nodiscard]] std::string describe() const;
};

/// How a dataset's values are laid out on disk.
struct StorageInfo {
  std::uint64_t chunk_rows = 0;  // rows per chunk; 0 when contiguous or compact
  std::vector<Filter> filters;

  /// "contiguous" or "chunked 4096 rows, shuffle, gzip 4".
  [[nodiscard]] std::string describe() const;
};

/// One column as stored.
struct ColumnInfo {
  std::string name;
  StoredType stored;
  /// The dataset holding it: the column's own dataset (columnar), or the table's
  /// compound dataset (whose storage all its columns share).
  std::string dataset;
  StorageInfo storage;
};

/// A table in one shard.
struct TableInfo {
  std::filesystem::path file;
  std::string path;    // the table path asked for, e.g. "/cases"
  std::string object;  // what it resolved to: "/cases" or pandas' "/cases/table"
  Layout layout = Layout::columnar;
  std::uint64_t rows = 0;
  std::vector<ColumnInfo> columns;  // columnar: datasets in name order; compound: member order
  /// Columnar: 1-D datasets of a type no column can have (compound, e.g. h5py's
  /// complex numbers), kept so that asking for one says so instead of "no column".
  std::vector<ColumnInfo> unsupported;

  /// The column called `name`, or nullptr.
  [[nodiscard]] const ColumnInfo* find(std::string_view name) const noexcept;
  /// "cases-3.h5: table /cases": the prefix of every message about this table.
  [[nodiscard]] std::string where() const;
};

}  // namespace pearl::io
