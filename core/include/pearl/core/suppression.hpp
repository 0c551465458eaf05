// pearl/core/suppression.hpp — small-cell suppression, shared by every job that
// publishes counts (contract: jobs.md, "Small-cell suppression").
//
// A cell whose count is ≥ 1 and < N (`--min-cell N`, default 10) is suppressed: its
// count columns are written as −1, its derived rates as NaN, and `suppressed` = 1.
// `--min-cell 0` turns it off. One implementation, so that the disclosure rule cannot
// drift between jobs:
//
//   pearl::SmallCellSuppression small_cells;        // a job member
//   small_cells.declare(spec);                      // in declare(): adds --min-cell
//   small_cells.check();                            // in run(): rejects a negative N
//   const bool hide = small_cells.applies(cases);
//   out.append(key, small_cells.count(cases, hide), small_cells.rate(rate, hide),
//              pearl::SmallCellSuppression::flag(hide));
#pragma once

#include <cstdint>
#include <limits>

#include "pearl/core/job.hpp"

namespace pearl {

class SmallCellSuppression {
 public:
  /// Adds `--min-cell` (default 10) to the job's options; `what` names the count it
  /// applies to in the help text (e.g. "cases", "persons").
  void declare(JobSpec& spec, const char* what = "count");
  /// Throws InputError if `--min-cell` is negative.
  void check() const;

  /// Whether a cell with this count is suppressed: 1 ≤ count < min-cell.
  [[nodiscard]] bool applies(std::int64_t count) const noexcept { return count >= 1 && count < min_cell_; }
  /// A count column's published value: −1 when suppressed.
  [[nodiscard]] static std::int64_t count(std::int64_t value, bool suppressed) noexcept {
    return suppressed ? -1 : value;
  }
  /// A derived rate's (or money column's) published value: NaN when suppressed.
  [[nodiscard]] static double rate(double value, bool suppressed) noexcept {
    return suppressed ? std::numeric_limits<double>::quiet_NaN() : value;
  }
  /// The `suppressed` column's value.
  [[nodiscard]] static std::uint8_t flag(bool suppressed) noexcept { return suppressed ? 1 : 0; }

  [[nodiscard]] std::int64_t min_cell() const noexcept { return min_cell_; }

 private:
  std::int64_t min_cell_ = 10;
};

}  // namespace pearl
