// social.compliance's cells (contract: docs/contracts/jobs.md): the key built from the
// --by columns, what a cell sums, the columns read, and the output table. Shared by the
// in-memory path (compliance_in_memory.cpp) and the engine's spilling path (compliance.cpp).
//
//   CellKeyer keyer(dims, level);
//   ContributionColumns c(batch);
//   const CellKey key = keyer.key(c, i);          // row i's cell
//   ComplianceOutput out(dims, small_cells);
//   out.add(key, cell);                            // in key order; then ctx.write(out.take())
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::social::compliance {

enum class Dim : std::uint8_t { region, insurance, industry, month };

/// The cell key: one slot per --by column in the order given, unused slots 0. Signed months
/// are stored with the sign bit flipped so that unsigned order is numeric order.
using CellKey = std::array<std::uint32_t, 4>;

constexpr std::uint32_t flip(std::int32_t v) noexcept { return static_cast<std::uint32_t>(v) ^ 0x80000000U; }
constexpr std::int32_t unflip(std::uint32_t v) noexcept { return static_cast<std::int32_t>(v ^ 0x80000000U); }

/// The money of a cell (or of one person in a cell).
struct Money {
  Sum due;
  Sum paid;
  Sum arrears;
  std::int64_t underpaid = 0;

  /// One contribution record.
  void add(double d, double p) noexcept {
    due.add(d);
    paid.add(p);
    arrears.add(d > p ? d - p : 0.0);
    underpaid += p < d - 0.005 ? 1 : 0;
  }
};

inline Money fold(Money a, const Money& b) noexcept {
  a.due.add(b.due);
  a.paid.add(b.paid);
  a.arrears.add(b.arrears);
  a.underpaid += b.underpaid;
  return a;
}

struct Cell {
  std::int64_t persons = 0;
  std::int64_t employers = 0;
  Money money;
};

inline Cell fold(const Cell& a, const Cell& b) noexcept {
  return Cell{a.persons + b.persons, a.employers + b.employers, fold(a.money, b.money)};
}

/// The columns of one batch of `contributions` that the job reads.
struct ContributionColumns {
  explicit ContributionColumns(const TableBatch& b)
      : rows(b.rows()), person(b.column<std::uint64_t>("person_id")), employer(b.column<std::uint64_t>("employer_id")),
        region(b.column<std::uint32_t>("region_code")), industry(b.column<std::uint8_t>("industry")),
        month(b.column<std::int32_t>("month")), insurance(b.column<std::uint8_t>("insurance")),
        due(b.column<double>("due")), paid(b.column<double>("paid")) {}
  std::size_t rows;
  std::span<const std::uint64_t> person, employer;
  std::span<const std::uint32_t> region;
  std::span<const std::uint8_t> industry;
  std::span<const std::int32_t> month;
  std::span<const std::uint8_t> insurance;
  std::span<const double> due, paid;
};

/// Builds a row's cell key from the --by dimensions and the region level.
class CellKeyer {
 public:
  CellKeyer(std::vector<Dim> dims, RegionLevel level) : dims_(std::move(dims)), level_(level) {}
  [[nodiscard]] const std::vector<Dim>& dims() const noexcept { return dims_; }

  [[nodiscard]] CellKey key(const ContributionColumns& c, std::size_t i) const noexcept {
    CellKey key{};
    for (std::size_t d = 0; d < dims_.size(); ++d) {
      switch (dims_[d]) {
        case Dim::region: key[d] = region_at(level_, c.region[i]); break;
        case Dim::insurance: key[d] = c.insurance[i]; break;
        case Dim::industry: key[d] = c.industry[i]; break;
        case Dim::month: key[d] = flip(c.month[i]); break;
      }
    }
    return key;
  }

  /// Every row's key, one --by column at a time (a branch per column, not per row).
  void keys(const ContributionColumns& c, std::vector<CellKey>& out) const {
    out.assign(c.rows, CellKey{});
    for (std::size_t d = 0; d < dims_.size(); ++d) {
      switch (dims_[d]) {
        case Dim::region:
          for (std::size_t i = 0; i < c.rows; ++i) out[i][d] = region_at(level_, c.region[i]);
          break;
        case Dim::insurance:
          for (std::size_t i = 0; i < c.rows; ++i) out[i][d] = c.insurance[i];
          break;
        case Dim::industry:
          for (std::size_t i = 0; i < c.rows; ++i) out[i][d] = c.industry[i];
          break;
        case Dim::month:
          for (std::size_t i = 0; i < c.rows; ++i) out[i][d] = flip(c.month[i]);
          break;
      }
    }
  }

 private:
  std::vector<Dim> dims_;
  RegionLevel level_;
};

/// The output table `compliance`, filled cell by cell in key order, with small-cell
/// suppression applied to `persons`.
class ComplianceOutput {
 public:
  ComplianceOutput(const std::vector<Dim>& dims, const SmallCellSuppression& small_cells);
  void add(const CellKey& key, const Cell& c);
  OutputTable take() { return std::move(out_); }

 private:
  static std::vector<ColumnSpec> columns(const std::vector<Dim>& dims);
  std::vector<Dim> dims_;
  const SmallCellSuppression& small_cells_;
  OutputTable out_;
};

}  // namespace pearl::jobs::social::compliance
