// pearl/core/calendar.hpp — the contract's calendar conventions (tables.md): `*_day` is
// days since 1970-01-01, `month` is yyyymm. One implementation for every job (and the
// generator), so that a claim's month or a case's year cannot differ between them.
//
// Days since 1970-01-01 <-> civil dates (proleptic Gregorian), after Howard Hinnant's
// "chrono-compatible low-level date algorithms" (days_from_civil / civil_from_days).
#pragma once

#include <cstdint>

namespace pearl {

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

}  // namespace pearl
