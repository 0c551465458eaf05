// Shared by the social.* jobs: calendar arithmetic, a near-exact float sum, and batch
// sources over local vectors and results (for multi-stage dataflows).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "pearl/core/results.hpp"
#include "pearl/core/table.hpp"

namespace pearl::jobs::social {

// ---- calendar ---------------------------------------------------------------------------
// Days since 1970-01-01 <-> civil dates (proleptic Gregorian), after Howard Hinnant's
// "chrono-compatible low-level date algorithms" (days_from_civil / civil_from_days).

struct Civil {
  std::int32_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

constexpr Civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);                 // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                       // [0, 11], March = 0
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int32_t>(y + (m <= 2 ? 1 : 0)), m, d};
}

constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// yyyymm of a day number.
constexpr std::int32_t month_of_day(std::int32_t day) noexcept {
  const Civil c = civil_from_days(day);
  return c.year * 100 + static_cast<std::int32_t>(c.month);
}

/// Months since year 0 (yyyymm -> a linear index, so "12 months before" is subtraction).
constexpr std::int32_t month_index(std::int32_t yyyymm) noexcept { return yyyymm / 100 * 12 + yyyymm % 100 - 1; }
constexpr std::int32_t month_from_index(std::int32_t index) noexcept { return index / 12 * 100 + index % 12 + 1; }
constexpr bool valid_month(std::int64_t yyyymm) noexcept {
  return yyyymm >= 100001 && yyyymm <= 999912 && yyyymm % 100 >= 1 && yyyymm % 100 <= 12;
}

static_assert(month_of_day(0) == 197001);
static_assert(month_of_day(-1) == 196912);
static_assert(month_of_day(19722) == 202312);  // 2023-12-31
static_assert(month_of_day(19538) == 202306);  // 2023-06-30
static_assert(days_from_civil(2024, 2, 29) - days_from_civil(2024, 2, 1) == 28);
static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(month_of_day(static_cast<std::int32_t>(days_from_civil(2024, 2, 29))) == 202402);
static_assert(month_of_day(static_cast<std::int32_t>(days_from_civil(2024, 3, 1))) == 202403);

// ---- sums --------------------------------------------------------------------------------

/// A double-double accumulator (Knuth's TwoSum): about 106 bits, so the rounded total does
/// not depend on the order the engine folds partial sums in (which follows the number of
/// ranks) except in pathological cases. Trivially copyable, no padding: a record value.
struct Sum {
  double hi = 0;
  double lo = 0;
  void add(double x) noexcept {
    const double s = hi + x;
    const double bp = s - hi;
    const double e = (hi - (s - bp)) + (x - bp);
    hi = s;
    lo += e;
  }
  void add(const Sum& o) noexcept {
    add(o.hi);
    lo += o.lo;
    // renormalise so hi carries the rounded value
    const double s = hi + lo;
    lo = lo - (s - hi);
    hi = s;
  }
  [[nodiscard]] double value() const noexcept { return hi + lo; }
};

// ---- sources -------------------------------------------------------------------------------

/// A batch source over this rank's local vector of records (for feeding locally computed
/// rows, e.g. flags, into the engine).
template <class T>
class VectorSource {
 public:
  using Batch = std::span<const T>;
  explicit VectorSource(const std::vector<T>& rows, std::size_t batch = 1 << 16) : rows_(rows), batch_(batch) {}
  std::optional<Batch> next() {
    if (at_ >= rows_.size()) return std::nullopt;
    const std::size_t n = std::min(batch_, rows_.size() - at_);
    Batch b(rows_.data() + at_, n);
    at_ += n;
    return b;
  }

 private:
  const std::vector<T>& rows_;
  std::size_t batch_;
  std::size_t at_ = 0;
};

/// Two table inputs read one after the other, each batch tagged with which it came from:
/// the map of a join sees rows of both sides (tagged values into one group_by_key).
template <class A, class B>
class TwoSources {
 public:
  struct Batch {
    int side;  // 0: first, 1: second
    std::optional<typename A::Batch> a;
    std::optional<typename B::Batch> b;
  };
  TwoSources(A* first, B* second) : a_(first), b_(second) {}
  std::optional<Batch> next() {
    if (a_ != nullptr) {
      if (auto x = a_->next()) return Batch{0, std::move(x), std::nullopt};
      a_ = nullptr;
    }
    if (b_ != nullptr) {
      if (auto y = b_->next()) return Batch{1, std::nullopt, std::move(y)};
      b_ = nullptr;
    }
    return std::nullopt;
  }

 private:
  A* a_;
  B* b_;
};

}  // namespace pearl::jobs::social
