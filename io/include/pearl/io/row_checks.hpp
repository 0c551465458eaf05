// pearl/io/row_checks.hpp — `--on-bad-row fail|skip`: values outside their domain, found
// as batches are read, before any job's map sees them.
//
// A TableSource given RowChecks checks every batch it reads: each projected column that
// has a contract domain (column_domains.hpp) and every string column (valid UTF-8, no
// NUL byte). With BadRowPolicy::fail the first bad value is an InputError naming file,
// table, row (counted from 0 within the file), column and value; with skip the batch's
// bad rows are removed and recorded in the RejectLog, which the runner gathers into the
// output's `rejects` table and count attributes.
//
//   auto log = std::make_shared<pearl::io::RejectLog>();
//   pearl::io::TableSource cases(catalogue, columns, comm);
//   cases.check_rows(pearl::io::RowChecks("cases", "cases", columns, pearl::io::BadRowPolicy::skip, log));
//   while (auto batch = cases.next()) { ... }            // clean rows only
//   for (const auto& r : log->rows()) std::cout << r.file << ':' << r.row << ' ' << r.reason << '\n';
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "pearl/core/table.hpp"
#include "pearl/io/column_domains.hpp"

namespace pearl::io {

enum class BadRowPolicy : std::uint8_t { fail, skip };

/// "fail" or "skip"; anything else is an InputError naming --on-bad-row.
BadRowPolicy parse_bad_row_policy(std::string_view text);

/// One value that put its row aside.
struct Reject {
  std::string input;   ///< the --input name, for the per-reason counts
  std::string file;
  std::uint64_t row = 0;  ///< row within the file, from 0
  std::string column;
  std::string value;   ///< as text, at most 80 characters (quote_value for strings)
  std::string reason;  ///< "is not in 0..120", "is not valid UTF-8", ...
  friend bool operator<(const Reject& a, const Reject& b) {
    return std::tie(a.input, a.file, a.row, a.column) < std::tie(b.input, b.file, b.row, b.column);
  }
};

/// This rank's rejected values, each recorded once even when a job reads its input
/// twice. Thread-safe.
class RejectLog {
 public:
  void add(Reject r);
  /// The rejects so far, sorted by input, file, row and column.
  [[nodiscard]] std::vector<Reject> rows() const;

 private:
  mutable std::mutex mutex_;
  std::set<Reject> rows_;
};

/// The checks for one input's projection.
class RowChecks {
 public:
  /// `input`: the --input name (for messages and counts); `contract`: the contract
  /// table whose domains apply (empty or unknown: strings only).
  RowChecks(std::string input, std::string_view contract, const std::vector<ColumnSpec>& projection,
            BadRowPolicy policy, std::shared_ptr<RejectLog> log);

  /// Checks `data` (the projection's columns, rows first_row.. of `file`, table `where`
  /// as TableInfo::where() says it). fail: throws InputError at the first bad value;
  /// skip: removes the bad rows from every column and logs them.
  void apply(const std::string& where, const std::string& file, std::uint64_t first_row,
             std::vector<ColumnData>& data) const;
  /// Whether `apply` may log rejects (skip, with something to check): a resumed pass
  /// then reads the batches it skips for them (TableSource::skip).
  [[nodiscard]] bool logs_rejects() const noexcept { return policy_ == BadRowPolicy::skip && !checks_.empty(); }

 private:
  struct Check {
    std::size_t column;              // index into the projection
    const ColumnDomain* domain;      // nullptr: a string column
  };
  std::string input_;
  std::vector<ColumnSpec> projection_;
  std::vector<Check> checks_;
  BadRowPolicy policy_;
  std::shared_ptr<RejectLog> log_;
};

}  // namespace pearl::io
