// The contract's column domains (tables.md, column notes and conventions) and the scan
// that finds values outside them.
//
// Where the contract states a domain for a column it is used as stated (cases: age
// 0..120, sex 1 or 2); where it gives none for a kind of value, a plausible range is
// used: ages 0..130, sex 1, 2 or 9 (GB/T 2261.1 "not stated"), days and months within
// 1900..2099, money and counts finite and >= 0. Times (*_time) have no range: the
// contract gives none and tests use times before 1970.
#include "pearl/io/column_domains.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <type_traits>

#include "pearl/core/value_text.hpp"

namespace pearl::io {

namespace {

constexpr std::int64_t kFirstDay = -25567;          // 1900-01-01
constexpr std::int64_t kLastDay = 47481;            // 2099-12-31

/// The 21 prefecture-level cities of Guangdong, GB/T 2260 (tables.md).
constexpr std::array<std::uint32_t, 21> kCities = {440100, 440200, 440300, 440400, 440500, 440600, 440700,
                                                   440800, 440900, 441200, 441300, 441400, 441500, 441600,
                                                   441700, 441800, 441900, 442000, 445100, 445200, 445300};

/// Guangdong codes are 44xxxx: a 100-entry table indexed by the city digits says
/// whether those digits name one of the 21 cities.
constexpr std::array<bool, 100> city_table() {
  std::array<bool, 100> t{};
  for (const auto c : kCities) t[(c - 440000) / 100] = true;
  return t;
}
constexpr std::array<bool, 100> kIsCity = city_table();

ColumnDomain integers(std::vector<std::pair<std::int64_t, std::int64_t>> ranges, std::string text) {
  return {ColumnDomain::Kind::integers, std::move(ranges), 0, 0, std::move(text)};
}
ColumnDomain real(double lo, double hi, std::string text) { return {ColumnDomain::Kind::real, {}, lo, hi, std::move(text)}; }

using Table = std::map<std::string, ColumnDomain, std::less<>>;

std::map<std::string, Table, std::less<>> make_domains() {
  const ColumnDomain sex = integers({{1, 2}}, "1 or 2");
  const ColumnDomain sex_stated = integers({{1, 2}, {9, 9}}, "1, 2 or 9");
  const ColumnDomain day = integers({{kFirstDay, kLastDay}}, "a day of 1900..2099");
  const ColumnDomain month{ColumnDomain::Kind::month, {{1900, 2099}}, 0, 0, "a month (yyyymm) of 1900..2099"};
  const ColumnDomain region{ColumnDomain::Kind::region, {}, 0, 0, "a Guangdong region code"};
  const ColumnDomain flag = integers({{0, 1}}, "0 or 1");
  const ColumnDomain money = real(0, std::numeric_limits<double>::max(), "a finite amount >= 0");
  const ColumnDomain count = integers({{0, std::numeric_limits<std::int64_t>::max()}}, "a count >= 0");
  const ColumnDomain lon = real(-180, 180, "in -180..180");
  const ColumnDomain lat = real(-90, 90, "in -90..90");
  return {
      {"cases",
       {{"sex", sex}, {"age_years", integers({{0, 120}}, "in 0..120")}, {"region_code", region},
        {"onset_day", day}, {"report_day", day}}},
      {"population",
       {{"region_code", region}, {"year", integers({{1900, 2099}}, "in 1900..2099")}, {"sex", sex},
        {"age_group", integers({{0, 17}}, "in 0..17")}, {"population", count}}},
      {"checkups",
       {{"exam_day", day}, {"sex", sex_stated}, {"age_years", integers({{0, 130}}, "in 0..130")}, {"smoker", flag},
        {"diabetes", flag}}},
      {"contributions",
       {{"region_code", region}, {"industry", integers({{1, 20}}, "in 1..20")}, {"month", month},
        {"insurance", integers({{1, 5}}, "in 1..5")}, {"wage_base", money}, {"due", money}, {"paid", money}}},
      {"claims",
       {{"region_code", region}, {"benefit", integers({{1, 4}}, "in 1..4")}, {"claim_day", day}, {"amount", money}}},
      {"deaths", {{"death_day", day}}},
      {"unemployment",
       {{"region_code", region}, {"start_day", day},
        {"end_day", integers({{-1, -1}, {kFirstDay, kLastDay}}, "-1 or a day of 1900..2099")}}},
      {"labour_force", {{"region_code", region}, {"month", month}, {"employed", count}}},
      {"taps", {{"tap_type", integers({{1, 3}}, "in 1..3")}, {"fare", money}}},
      {"stations", {{"lon", lon}, {"lat", lat}}},
      // GPS speed glitches (negative, far too fast) are transport.flow's to drop (--max-speed).
      {"gps", {{"lon", lon}, {"lat", lat}, {"occupied", flag}}},
  };
}

/// Appends the indices of values where in(v) is false: a counting pass first, which
/// the compiler vectorises and which is all that runs on clean data.
template <class T, class In>
void scan(const std::vector<T>& v, In in, std::vector<std::size_t>& rows) {
  std::size_t bad = 0;
  for (const T& x : v) bad += in(x) ? 0 : 1;
  if (bad == 0) return;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!in(v[i])) rows.push_back(i);
  }
}

/// Whether value x (of any numeric column type) is an integer inside [lo, hi].
template <class T>
bool integer_in(T x, std::int64_t lo, std::int64_t hi) noexcept {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isfinite(x) && x == std::trunc(x) && x >= static_cast<T>(lo) && x <= static_cast<T>(hi);
  } else if constexpr (std::is_unsigned_v<T>) {
    return hi >= 0 && x <= static_cast<std::uint64_t>(hi) && (lo <= 0 || x >= static_cast<std::uint64_t>(lo));
  } else {
    return static_cast<std::int64_t>(x) >= lo && static_cast<std::int64_t>(x) <= hi;
  }
}

template <class T>
void find_in_numbers(const ColumnDomain& d, const std::vector<T>& v, std::vector<std::size_t>& rows) {
  switch (d.kind) {
    case ColumnDomain::Kind::integers:
      if (d.ranges.size() == 1) {
        // Plain copies, not a structured binding: clang 14 (the fuzz build) cannot capture one.
        const std::int64_t lo = d.ranges.front().first, hi = d.ranges.front().second;
        scan(v, [lo, hi](T x) { return integer_in(x, lo, hi); }, rows);
      } else {
        scan(v, [&d](T x) {
          return std::any_of(d.ranges.begin(), d.ranges.end(), [x](const auto& r) { return integer_in(x, r.first, r.second); });
        }, rows);
      }
      return;
    case ColumnDomain::Kind::month: {
      const std::int64_t lo = d.ranges.front().first, hi = d.ranges.front().second;
      scan(v, [lo, hi](T x) {
        if (!integer_in(x, lo * 100 + 1, hi * 100 + 12)) return false;
        const auto m = static_cast<std::int64_t>(x) % 100;
        return m >= 1 && m <= 12;
      }, rows);
      return;
    }
    case ColumnDomain::Kind::region:
      scan(v, [](T x) {
        if (!integer_in(x, 440000, 449999)) return false;
        const auto code = static_cast<std::int64_t>(x);
        return kIsCity[static_cast<std::size_t>((code - 440000) / 100)];
      }, rows);
      return;
    case ColumnDomain::Kind::real: {
      const double lo = d.lo, hi = d.hi;
      scan(v, [lo, hi](T x) {
        const auto y = static_cast<double>(x);
        return std::isfinite(y) && y >= lo && y <= hi;
      }, rows);
      return;
    }
  }
}

}  // namespace

const ColumnDomain* contract_domain(std::string_view table, std::string_view column) {
  static const auto domains = make_domains();
  const auto t = domains.find(table);
  if (t == domains.end()) return nullptr;
  const auto c = t->second.find(column);
  return c == t->second.end() ? nullptr : &c->second;
}

void find_outside(const ColumnDomain& domain, const ColumnData& column, std::vector<std::size_t>& rows) {
  std::visit(
      [&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (!std::is_same_v<T, std::string>) find_in_numbers(domain, v, rows);
      },
      column);
}

void find_string_faults(const std::vector<std::string>& column, std::vector<std::size_t>& rows, std::size_t max_bytes) {
  const std::size_t most = max_bytes == 0 ? std::numeric_limits<std::size_t>::max() : max_bytes;
  scan(column, [most](const std::string& s) {
    if (s.size() > most) return false;
    // ASCII without NUL, the common case, in one branch-free pass; the rest in full.
    unsigned plain = 1;
    for (const char ch : s) plain &= static_cast<unsigned>(static_cast<unsigned char>(ch) - 1U < 0x7FU);
    return plain != 0 || string_fault(s).empty();
  }, rows);
}

std::string_view string_fault(std::string_view s) noexcept {
  if (s.find('\0') != std::string_view::npos) return "holds a NUL byte";
  if (invalid_utf8_at(s) != std::string_view::npos) return "is not valid UTF-8";
  return {};
}

}  // namespace pearl::io
