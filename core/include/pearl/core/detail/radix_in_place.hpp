// pearl/core/detail/radix_in_place.hpp — not API: sorts pairs by (integral key, value)
// where they are, without a second array of n pairs.
//
//   std::vector<std::pair<std::uint64_t, Obs>> pairs = ...;
//   detail::sort_by_key_value_in_place(pairs);
//
// An MSD radix sort (American flag sort: each byte's buckets are filled by swapping
// records into place) over the key bytes in which keys differ, most significant first;
// a bucket of one key has its values sorted as soon as it is done, while it is in cache
// (radix-sorted again on their sort_prefix() where the value type has one), and small
// buckets are finished by a comparison sort. Not stable, which sorting by
// (key, value) does not need. Why not the LSD radix sort of sort_by_key.hpp: its scratch
// array is as large as the pairs, and on the machines measured faulting those pages in
// (and zeroing them) cost more than the sort itself.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "pearl/core/detail/sort_by_key.hpp"

namespace pearl::detail {

/// A value type that offers `sort_prefix()`: an unsigned integer whose order agrees with
/// operator< (a < b implies a.sort_prefix() <= b.sort_prefix()), so a key's values can be
/// radix-sorted on it before they are compared (GroupOptions::sort_values).
template <class V>
concept HasSortPrefix = requires(const V& v) {
  { v.sort_prefix() } noexcept -> std::same_as<std::uint64_t>;
};

namespace radix_in_place {

/// Below this many pairs a bucket is finished by std::sort: a 256-way count costs more.
inline constexpr std::size_t kSmallBucket = 192;

/// The bit offsets of the bytes in which digit(a[i]) differ over a[0, n), most
/// significant first; their count.
template <class P, class Digit>
std::size_t varying_bytes(const P* a, std::size_t n, Digit digit, std::array<unsigned, 8>& shifts) {
  const std::uint64_t first = digit(a[0]);
  std::uint64_t varying = 0;
  for (std::size_t i = 1; i < n; ++i) varying |= digit(a[i]) ^ first;
  std::size_t levels = 0;
  for (unsigned d = 8; d-- > 0;) {
    if (((varying >> (8 * d)) & 0xff) != 0) shifts[levels++] = 8 * d;
  }
  return levels;
}

/// Sorts a[0, n) by digit(·) on the bytes at `shifts` (elements agree on every byte
/// before them), most significant first; `finish(first, count, all_digits_done)` orders
/// each bucket that needs no more radix passes: one left with equal digits, or a small one.
template <class P, class Digit, class Finish>
void sort_bucket(P* a, std::size_t n, Digit digit, const unsigned* shifts, std::size_t levels, Finish& finish) {
  if (levels == 0 || n < kSmallBucket) {
    finish(a, n, levels == 0);
    return;
  }
  const unsigned shift = shifts[0];
  const auto byte = [&](const P& p) { return static_cast<std::size_t>((digit(p) >> shift) & 0xff); };
  std::array<std::size_t, 256> count{};
  for (std::size_t i = 0; i < n; ++i) ++count[byte(a[i])];
  std::array<std::size_t, 256> head{};
  std::array<std::size_t, 256> end{};
  std::size_t sum = 0;
  for (std::size_t b = 0; b < 256; ++b) {
    head[b] = sum;
    sum += count[b];
    end[b] = sum;
  }
  // Each bucket's unplaced records are [head, end): a record taken from there is swapped
  // into its own bucket's next free place until one belonging here comes back.
  for (std::size_t b = 0; b < 256; ++b) {
    while (head[b] < end[b]) {
      P v = a[head[b]];
      for (std::size_t d = byte(v); d != b; d = byte(v)) std::swap(v, a[head[d]++]);
      a[head[b]++] = v;
    }
  }
  std::size_t from = 0;
  for (std::size_t b = 0; b < 256; ++b) {
    if (count[b] > 1) sort_bucket(a + from, count[b], digit, shifts + 1, levels - 1, finish);
    from += count[b];
  }
}

/// Sorts one key's values a[0, n) (pairs of equal keys): by their sort_prefix() first
/// when they have one (radix again), each run of equal prefixes then by operator<.
template <class P>
void sort_values(P* a, std::size_t n) {
  const auto by_value = [](const P& x, const P& y) { return x.second < y.second; };
  if (std::is_sorted(a, a + n, by_value)) return;
  if constexpr (HasSortPrefix<typename P::second_type>) {
    if (n >= kSmallBucket) {
      const auto prefix = [](const P& p) { return static_cast<std::uint64_t>(p.second.sort_prefix()); };
      std::array<unsigned, 8> shifts{};
      const std::size_t levels = varying_bytes(a, n, prefix, shifts);
      auto finish = [&](P* b, std::size_t m, bool) { std::sort(b, b + m, by_value); };
      sort_bucket(a, n, prefix, shifts.data(), levels, finish);
      return;
    }
  }
  std::sort(a, a + n, by_value);
}

}  // namespace radix_in_place

/// Sorts `v` by (key, value) in place; the order of values equal under operator< is
/// unspecified, as with std::sort.
template <class K, class V>
  requires(std::is_integral_v<K> && !std::is_same_v<K, bool>)
void sort_by_key_value_in_place(std::vector<std::pair<K, V>>& v) {
  using P = std::pair<K, V>;
  const std::size_t n = v.size();
  if (n < 2) return;
  const auto key = [](const P& p) { return static_cast<std::uint64_t>(radix_key(p.first)); };
  std::array<unsigned, 8> shifts{};
  const std::size_t levels = radix_in_place::varying_bytes(v.data(), n, key, shifts);
  auto finish = [](P* a, std::size_t m, bool one_key) {
    if (one_key) {
      radix_in_place::sort_values(a, m);
      return;
    }
    std::sort(a, a + m, [](const P& x, const P& y) {
      if (x.first < y.first) return true;
      if (y.first < x.first) return false;
      return x.second < y.second;
    });
  };
  radix_in_place::sort_bucket(v.data(), n, key, shifts.data(), levels, finish);
}

}  // namespace pearl::detail
