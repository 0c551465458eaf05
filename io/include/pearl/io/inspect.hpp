// pearl/io/inspect.hpp — `pearl inspect FILE...`: what tables a shard holds and whether
// they fit the contract.
//
// For every file: each table found (columnar groups, compound datasets, pandas tables),
// its layout and row count, every column's stored type, contract type and conversion,
// chunking and compression, and whether the table matches a contract table. Tables the
// reader would refuse (pandas block-packed, columns of unequal length) are listed with
// the reason. String columns are read in full to show their longest value in bytes, the
// width a job's FixedString<N> key needs. The same functions serve tests and tools that need the facts as data.
//
//   pearl::io::inspect({"data/cases-0.h5", "data/taps-0.h5"}, std::cout);
//
//   auto file = std::make_shared<const pearl::io::File>(pearl::io::File::open_read("x.h5"));
//   for (const auto& t : pearl::io::find_tables(file))
//     if (t.info) std::cout << t.path << ' ' << pearl::io::match_contract(*t.info).summary << '\n';
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "pearl/io/contract.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/table_info.hpp"

namespace pearl::io {

/// A table found in a file: readable (info set) or refused (problem set).
struct FoundTable {
  std::string path;               // the path to give the reader: "/cases", "/x/y/table"
  std::optional<TableInfo> info;  // what the reader sees
  std::string problem;            // why the reader refuses it (InputError text)
  /// Per column of `info`: the longest value in bytes of a string column (what a job's
  /// FixedString<N> must hold), -1 for numeric columns or when the values cannot be read.
  std::vector<std::int64_t> longest;
};

/// Walks every group of `file` (hard links, depth ≤ 32) and returns its tables in path
/// order: groups with 1-D column datasets, 1-D compound datasets, pandas tables (given
/// by their group path, as a user would name them).
std::vector<FoundTable> find_tables(const std::shared_ptr<const File>& file);

/// How a table compares to the contract.
struct ContractMatch {
  /// The contract table called like the table's last path component, if any.
  const ContractTable* contract = nullptr;
  /// True when `contract` is set and every contract column exists and converts.
  bool matches = false;
  /// Missing or unconvertible contract columns (when `contract` is set).
  std::vector<std::string> problems;
  /// Contract tables whose columns all fit (when no contract table has this name).
  std::vector<std::string> fits;
  /// One line: "matches contract table 'cases'", "does not match contract table
  /// 'cases': no column 'sex'", "no contract table 'foo'; its columns fit: deaths".
  std::string summary;
};

/// Compares `table` with the contract table of the same name (or, without one, with all).
ContractMatch match_contract(const TableInfo& table);

/// Prints every file's tables (see the top of this header) to `out`. A file that cannot
/// be read (missing, not HDF5, truncated) is skipped; after all files, an InputError
/// naming every such file is thrown.
void inspect(const std::vector<std::filesystem::path>& files, std::ostream& out);

}  // namespace pearl::io
