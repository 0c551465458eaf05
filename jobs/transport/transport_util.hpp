// Small helpers the transport jobs share (local to jobs/transport): type-7 quantiles and
// a floored modulo. Their passes are chained with pearl::SpillingBuffer and
// pearl::SortedResultBuilder (core).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace pearl::jobs::transport {

/// Type-7 (linear interpolation, NumPy's default) quantile of ascending `sorted` values.
template <class Span>
double quantile7(const Span& sorted, double p) {
  const std::size_t n = sorted.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const double h = static_cast<double>(n - 1) * p;
  const auto lo = static_cast<std::size_t>(h);  // h >= 0: truncation is floor
  if (lo + 1 >= n) return static_cast<double>(sorted[n - 1]);
  const double a = static_cast<double>(sorted[lo]);
  const double b = static_cast<double>(sorted[lo + 1]);
  return a + (h - static_cast<double>(lo)) * (b - a);
}

/// The same for values in any order, which it reorders: the two order statistics type 7
/// interpolates between are found by selection (linear time) instead of a full sort.
inline double quantile7_unsorted(std::vector<double>& values, double p) {
  const std::size_t n = values.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const double h = static_cast<double>(n - 1) * p;
  const auto lo = static_cast<std::size_t>(h);
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(lo);
  std::nth_element(values.begin(), at, values.end());
  const double a = *at;
  if (lo + 1 >= n) return a;
  const double b = *std::min_element(at + 1, values.end());  // the next order statistic
  return a + (h - static_cast<double>(lo)) * (b - a);
}

/// A signed integer as an unsigned one in the same order (the sign bit flipped), for a
/// value's sort_prefix() (GroupOptions::sort_values).
inline std::uint64_t ordered_bits(std::int64_t v) noexcept {
  return static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63);
}

/// Floored modulo (Python's %): the result has the sign of `m` (> 0), also for t < 0.
inline std::int64_t floor_mod(std::int64_t t, std::int64_t m) noexcept {
  const std::int64_t r = t % m;
  return r < 0 ? r + m : r;
}

}  // namespace pearl::jobs::transport
