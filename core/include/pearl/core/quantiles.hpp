// pearl/core/quantiles.hpp — exact order statistics of values spread over ranks, per key,
// without moving the values: medians and median absolute deviations (MAD) of groups.
//
// Every rank keeps its own values of each group, sorted; the ranks then search the answer
// together over the doubles' order (as 64-bit integers), splitting the range 16 ways a
// step, one small allreduce of counts per step for all groups at once (at most 16 steps). Counting is a binary search in
// the local sorted arrays, so a step costs microseconds however many values there are. The
// result is the exact k-th value, identical at any number of ranks (no interpolation, no
// sketch), which is what a golden test against pandas' median needs.
//
//   std::vector<pearl::ValueGroup<Key>> mine = ...;          // this rank's groups
//   for (auto& g : mine) pearl::sort_values(g.values);         // each sorted
//   const auto stats = pearl::median_and_mad(comm, mine);     // every group over all ranks
//   for (const auto& s : stats) use(s.key, s.count, s.median, s.mad);
//
// Values must be finite (NaN has no place in an order; reject it when reading).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/record.hpp"
#include "pearl/core/results.hpp"

namespace pearl {

/// A double's position in the order of doubles as a signed integer (-0.0 counts as +0.0,
/// which it equals): a < b exactly when ordered_bits(a) < ordered_bits(b).
inline std::int64_t ordered_bits(double x) noexcept {
  if (x == 0) x = 0;  // -0.0 -> +0.0
  const auto s = std::bit_cast<std::int64_t>(x);
  return s < 0 ? s ^ std::numeric_limits<std::int64_t>::max() : s;
}
inline double from_ordered_bits(std::int64_t s) noexcept {
  return std::bit_cast<double>(s < 0 ? s ^ std::numeric_limits<std::int64_t>::max() : s);
}

/// Collective. For query q (the same number of queries on every rank), the want[q]-th
/// smallest (0-based) of its values over all ranks, where `count(q, t)` says how many of
/// this rank's values of query q are ≤ t and `range(q)` gives this rank's least and greatest
/// of them (lo > hi when it has none). Queries nobody has a value for, or with want[q] < 0,
/// give 0. `want` must be the same on every rank and below the query's total count.
template <class Count, class Range>
std::vector<double> select_exact(Communicator& comm, std::span<const std::int64_t> want, Count count, Range range) {
  const std::size_t n = want.size();
  std::vector<std::int64_t> lo(n), hi(n);
  for (std::size_t q = 0; q < n; ++q) {
    const std::pair<double, double> r = range(q);
    const bool none = !(r.first <= r.second);
    lo[q] = none ? std::numeric_limits<std::int64_t>::max() : ordered_bits(r.first);
    hi[q] = none ? std::numeric_limits<std::int64_t>::min() : ordered_bits(r.second);
  }
  agree_on_failure(comm, nullptr);
  comm.allreduce(std::span<std::int64_t>(lo), ReduceOp::min);
  comm.allreduce(std::span<std::int64_t>(hi), ReduceOp::max);
  // Invariant: the answer t* (least t with total count(≤ t) > want) lies in [lo, hi]. Each
  // step counts at kWays - 1 pivots splitting [lo, hi] evenly and keeps the part holding t*:
  // at most 16 steps (64 bits, 4 a step), so 16 allreduces, whatever the latency.
  constexpr std::uint64_t kWays = 16;
  constexpr std::size_t kPivots = kWays - 1;
  std::vector<std::int64_t> pivots(n * kPivots), counts(n * kPivots);
  const auto open = [&](std::size_t q) { return want[q] >= 0 && lo[q] < hi[q]; };
  for (;;) {
    bool any = false;
    std::fill(counts.begin(), counts.end(), 0);
    for (std::size_t q = 0; q < n; ++q) {
      if (!open(q)) continue;
      any = true;
      const std::uint64_t width = static_cast<std::uint64_t>(hi[q]) - static_cast<std::uint64_t>(lo[q]);
      for (std::size_t j = 0; j < kPivots; ++j) {
        // lo + floor(width · (j + 1) / kWays) without overflow: below hi, ascending in j
        const std::uint64_t step = width / kWays * (j + 1) + width % kWays * (j + 1) / kWays;
        const auto pivot = static_cast<std::int64_t>(static_cast<std::uint64_t>(lo[q]) + step);
        pivots[q * kPivots + j] = pivot;
        counts[q * kPivots + j] = static_cast<std::int64_t>(count(q, from_ordered_bits(pivot)));
      }
    }
    // Every rank sees the same lo and hi, so every rank leaves the loop at the same step.
    if (!any) break;
    comm.allreduce(std::span<std::int64_t>(counts), ReduceOp::sum);
    for (std::size_t q = 0; q < n; ++q) {
      if (!open(q)) continue;
      std::int64_t new_lo = lo[q];
      std::int64_t new_hi = hi[q];
      for (std::size_t j = 0; j < kPivots; ++j) {
        if (counts[q * kPivots + j] > want[q]) {
          new_hi = std::min(new_hi, pivots[q * kPivots + j]);
          break;
        }
        new_lo = pivots[q * kPivots + j] + 1;
      }
      lo[q] = new_lo;
      hi[q] = new_hi;
    }
  }
  std::vector<double> out(n, 0.0);
  for (std::size_t q = 0; q < n; ++q) {
    if (want[q] >= 0 && lo[q] <= hi[q]) out[q] = from_ordered_bits(lo[q]);
  }
  return out;
}

/// Sorts `values` ascending (-0.0 becomes +0.0, which it equals): a radix sort on
/// ordered_bits, one histogram pass and a scatter per byte that is not the same in every
/// value (amounts of one scale share their top bytes), for groups of millions of values.
inline void sort_values(std::vector<double>& values) {
  const std::size_t n = values.size();
  if (n < 1024) {
    for (double& x : values) x = x == 0 ? 0.0 : x;
    std::sort(values.begin(), values.end());
    return;
  }
  constexpr std::uint64_t kSign = std::uint64_t{1} << 63;  // signed order -> unsigned order
  std::vector<std::uint64_t> a(n), b(n);
  std::vector<std::array<std::size_t, 256>> counts(8);
  for (auto& c : counts) c.fill(0);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = static_cast<std::uint64_t>(ordered_bits(values[i])) ^ kSign;
    for (std::size_t d = 0; d < 8; ++d) ++counts[d][(a[i] >> (8 * d)) & 0xff];
  }
  for (std::size_t d = 0; d < 8; ++d) {
    auto& c = counts[d];
    if (std::find(c.begin(), c.end(), n) != c.end()) continue;  // one value of this byte: order kept
    std::size_t at = 0;
    for (auto& x : c) at += std::exchange(x, at);
    for (const std::uint64_t x : a) b[c[(x >> (8 * d)) & 0xff]++] = x;
    a.swap(b);
  }
  for (std::size_t i = 0; i < n; ++i) values[i] = from_ordered_bits(static_cast<std::int64_t>(a[i] ^ kSign));
}

/// How many of `sorted` are ≤ t.
inline std::size_t count_at_most(std::span<const double> sorted, double t) noexcept {
  return static_cast<std::size_t>(std::upper_bound(sorted.begin(), sorted.end(), t) - sorted.begin());
}

/// How many of `sorted` have |x − center| ≤ t, the difference rounded as x − center is
/// (so that the count matches deviations computed one by one).
inline std::size_t count_within(std::span<const double> sorted, double center, double t) noexcept {
  const auto mid = std::lower_bound(sorted.begin(), sorted.end(), center);
  // above: x − center grows with x; below: center − x shrinks as x grows.
  const auto above = std::partition_point(mid, sorted.end(), [&](double x) { return x - center <= t; });
  const auto below = std::partition_point(sorted.begin(), mid, [&](double x) { return !(center - x <= t); });
  return static_cast<std::size_t>((above - mid) + (mid - below));
}

/// One group's values on this rank, sorted ascending.
template <class K>
struct ValueGroup {
  K key;
  std::vector<double> values;
};

/// A group's statistics over all ranks. The median of an even count is the mean of the two
/// middle values; MAD = median(|x − median|), the same way.
template <class K>
struct GroupSpread {
  K key;
  std::int64_t count = 0;
  double median = 0;
  double mad = 0;
};

/// Collective. Median and MAD of every group any rank has, in key order, on every rank.
/// `mine` holds this rank's groups (any order, keys unique, values sorted ascending).
template <KeyRecord K>
std::vector<GroupSpread<K>> median_and_mad(Communicator& comm, const std::vector<ValueGroup<K>>& mine) {
  // Every rank learns every key and its total count; ranks lacking a group count it empty.
  std::vector<std::pair<K, std::int64_t>> sizes;
  sizes.reserve(mine.size());
  for (const auto& g : mine) sizes.emplace_back(g.key, static_cast<std::int64_t>(g.values.size()));
  std::sort(sizes.begin(), sizes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const auto all = detail::gather_sorted(comm, sizes);
  std::vector<GroupSpread<K>> out;
  for (const auto& [k, c] : all) {
    if (out.empty() || !(out.back().key == k)) out.push_back({k, 0, 0, 0});
    out.back().count += c;
  }
  const std::size_t n = out.size();
  std::vector<std::span<const double>> local(n);
  for (const auto& g : mine) {
    const auto it = std::lower_bound(out.begin(), out.end(), g.key, [](const auto& s, const K& k) { return s.key < k; });
    local[static_cast<std::size_t>(it - out.begin())] = g.values;
  }
  // Queries 2i and 2i+1: the lower and upper middle of group i (the same for odd counts).
  std::vector<std::int64_t> want(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    want[2 * i] = out[i].count == 0 ? -1 : (out[i].count - 1) / 2;
    want[2 * i + 1] = out[i].count == 0 ? -1 : out[i].count / 2;
  }
  const auto values_range = [&](std::size_t q) {
    const auto v = local[q / 2];
    return v.empty() ? std::pair(1.0, 0.0) : std::pair(v.front(), v.back());
  };
  const auto middle = select_exact(
      comm, want, [&](std::size_t q, double t) { return count_at_most(local[q / 2], t); }, values_range);
  for (std::size_t i = 0; i < n; ++i) out[i].median = (middle[2 * i] + middle[2 * i + 1]) / 2;

  const auto deviation_range = [&](std::size_t q) {
    const auto v = local[q / 2];
    if (v.empty()) return std::pair(1.0, 0.0);
    const double m = out[q / 2].median;
    const auto at = std::lower_bound(v.begin(), v.end(), m);
    // the nearest values on either side give the least deviation, the extremes the greatest
    double least = std::numeric_limits<double>::infinity();
    if (at != v.end()) least = std::min(least, *at - m);
    if (at != v.begin()) least = std::min(least, m - *(at - 1));
    return std::pair(least, std::max(v.back() - m, m - v.front()));
  };
  const auto spread = select_exact(
      comm, want, [&](std::size_t q, double t) { return count_within(local[q / 2], out[q / 2].median, t); },
      deviation_range);
  for (std::size_t i = 0; i < n; ++i) out[i].mad = (spread[2 * i] + spread[2 * i + 1]) / 2;
  return out;
}

}  // namespace pearl
