// jobs/table/derived_columns.hpp — table.aggregate's --derive columns, computed batch by
// batch so that the rest of the job sees them as input columns.
//
//   DerivedColumns derived({parse_derivation("delay=report_day-onset_day")},
//                          ctx.input_columns("table"), ctx.input_location("table"));
//   derived.type("delay");                        // DType::i64
//   std::vector<ColumnSpec> wanted = {{"region_code", DType::u32}, {"delay", DType::i64}};
//   TableInput input = ctx.input("table", derived.reads(wanted));
//   DerivingSource source(input, derived, wanted);  // batches with exactly `wanted`
//
// Types: a derived column is int64 when every operand is an integer column or an
// integer constant and there is no division; otherwise float64 (division is always
// float64, as in pandas). Integer arithmetic that leaves the int64 range is an input
// error naming the option and the row, never a wrapped value. Float columns carry NaN
// through as pandas does.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "expression.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::table_aggregate {

class DerivedColumns {
 public:
  DerivedColumns() = default;
  /// Checks every derivation against the input's columns and the derivations before
  /// it: unknown or string columns and names taken by an input column or an earlier
  /// derivation are InputErrors naming the option (and the position in its value).
  DerivedColumns(std::vector<Derivation> derivations, const std::vector<ColumnSpec>& input, std::string where);

  [[nodiscard]] bool empty() const noexcept { return derivations_.empty(); }
  /// The type of derived column `name` (int64 or float64), or nullopt if it is none.
  [[nodiscard]] std::optional<DType> type(const std::string& name) const;
  /// The input columns to read to produce `wanted`: its input columns as given, then
  /// every column the derivations use that is not among them yet.
  [[nodiscard]] std::vector<ColumnSpec> reads(const std::vector<ColumnSpec>& wanted) const;
  /// Columns `wanted` of the rows of `read` (a batch of reads(wanted)).
  [[nodiscard]] TableBatch derive(TableBatch&& read, const std::vector<ColumnSpec>& wanted) const;

 private:
  struct Column {
    Derivation derivation;
    DType type;
  };
  /// Values of node `i` of `c`'s expression for every row of `read`; `done` holds the
  /// derivations before `c`.
  [[nodiscard]] ColumnData evaluate(const Column& c, std::size_t i, const TableBatch& read,
                                    const std::vector<ColumnData>& done) const;

  std::vector<Column> derivations_;
  std::vector<ColumnSpec> input_;
  std::string where_;
};

/// A batch source over a TableInput giving batches of `wanted` (DerivedColumns::derive).
/// Without derivations the reader's batches pass through untouched, and back to it.
class DerivingSource {
 public:
  using Batch = TableBatch;
  DerivingSource(TableInput& input, const DerivedColumns& derived, std::vector<ColumnSpec> wanted)
      : input_(input), derived_(derived), wanted_(std::move(wanted)) {}

  std::optional<TableBatch> next() {
    std::optional<TableBatch> b = input_.next();
    if (!b || derived_.empty()) return b;
    return derived_.derive(std::move(*b), wanted_);
  }
  /// A resumed pass skips the batches it had mapped (SeekableSource): derived columns
  /// depend on their batch alone.
  std::uint64_t skip(std::uint64_t batches) { return input_.skip(batches); }
  /// Only the reader's own batches go back to it: derived ones have another layout.
  void recycle(TableBatch&& b) {
    if (derived_.empty()) input_.recycle(std::move(b));
  }

 private:
  TableInput& input_;
  const DerivedColumns& derived_;
  std::vector<ColumnSpec> wanted_;
};

}  // namespace pearl::jobs::table_aggregate
