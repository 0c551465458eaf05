// pearl/core/detail/group_sort.hpp — not API: the sort behind group_by_key's runs. Pairs are
// sorted by key, keeping input order within a key, or by (key, value); without comparing
// all n pairs against each other where the data allows.
//
//   std::vector<std::pair<std::uint64_t, Tap>> pairs = ...;   // as a group sink kept them
//   detail::sort_groups(pairs, /*by_value=*/true, /*may_copy=*/true);
//
// Four ways, the first that applies:
//   1. Presorted stretches. Data often arrives grouped already (a card's taps, a vehicle's
//      pings, stored together and in time order): a maximal stretch of one key whose values
//      ascend is a segment. With few segments (at most n/4) only the segments are sorted,
//      by (key, position) (a radix sort for integral keys), and copied into place.
//   2. Integral keys, by (key, value): an in-place MSD radix sort (radix_in_place.hpp),
//      each key's values sorted as its bucket is done.
//   3. Integral keys, by key alone: a stable LSD radix sort by key (sort_by_key.hpp).
//   4. Otherwise a comparison sort: std::sort by (key, value), std::stable_sort by key.
// Ways 1 and 3 copy the pairs through a second array of n pairs (from the heap);
// `may_copy` false (a sink whose pairs fill more than half its share of memory) leaves
// ways 2 and 4.
//
// Sorted by key alone, equal keys keep input order in every way. Sorted by (key, value),
// the order of values equal under operator< is unspecified, as with std::sort.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "pearl/core/detail/big_array.hpp"
#include "pearl/core/detail/radix_in_place.hpp"
#include "pearl/core/detail/sort_by_key.hpp"

namespace pearl::detail {

/// Below this many pairs, a comparison sort is as quick as the ways that copy.
inline constexpr std::size_t kGroupSortFrom = 4096;
static_assert(kGroupSortFrom >= kRadixSortFrom, "the ways from kGroupSortFrom on rely on the stable radix sort");

namespace group_sort {

/// Raw bytes for n pairs, from the heap, not zeroed. Not a BigArray: on the virtual
/// machines measured, faulting in fresh huge pages cost far more than the sort saves
/// (zeroing 2 MiB pages was half of transport.od's time).
template <class P>
std::unique_ptr<std::byte[]> copy_scratch(std::size_t n) {
  static_assert(alignof(P) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  auto scratch = std::unique_ptr<std::byte[]>(new std::byte[n * sizeof(P)]);
  prefault(scratch.get(), n * sizeof(P));  // every byte is written next
  return scratch;
}

/// Whether pair i starts a new segment: another key, or (by value) a smaller value.
template <class P>
bool starts_segment(const P* p, std::size_t i, bool by_value) {
  if (!(p[i].first == p[i - 1].first)) return true;
  if constexpr (std::totally_ordered<typename P::second_type>) {
    return by_value && p[i].second < p[i - 1].second;
  } else {
    return false;
  }
}

/// Sorts each key's values where they are not in order (the pairs are sorted by key).
template <class K, class V>
void sort_each_group(std::vector<std::pair<K, V>>& v) {
  if constexpr (std::totally_ordered<V>) {
    for (std::size_t first = 0; first < v.size();) {
      std::size_t last = first + 1;
      while (last < v.size() && v[last].first == v[first].first) ++last;
      radix_in_place::sort_values(v.data() + first, last - first);  // checks for sorted first
      first = last;
    }
  }
}

/// Way 1: the segment starts, if there are at most n/4 of them (else empty).
template <class K, class V>
std::vector<std::size_t> few_segments(const std::vector<std::pair<K, V>>& v, bool by_value) {
  const std::size_t n = v.size();
  const std::size_t most = n / 4;
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 1; i < n; ++i) {
    if (starts_segment(v.data(), i, by_value)) {
      if (starts.size() == most) return {};
      starts.push_back(i);
    }
  }
  return starts;
}

/// Way 1: the segments ordered by (first key, position), copied into place.
template <class K, class V>
void sort_segments(std::vector<std::pair<K, V>>& v, const std::vector<std::size_t>& starts, bool by_value) {
  const std::size_t n = v.size();
  std::vector<std::size_t> order(starts.size());
  if constexpr (std::is_integral_v<K> && !std::is_same_v<K, bool>) {
    // (first key, segment) pairs in (key, segment) order, so segments of one key stay in
    // position order, and no comparison reaches back into v for a key: many of them by
    // the LSD radix sort, which is stable; a few compared whole (sort_by_key's small-input
    // std::sort compares keys only, which would not keep them in position order).
    std::vector<std::pair<K, std::size_t>> keyed(starts.size());
    for (std::size_t s = 0; s < keyed.size(); ++s) keyed[s] = {v[starts[s]].first, s};
    if (keyed.size() >= kGroupSortFrom) {
      sort_by_key(keyed, copy_scratch<std::pair<K, std::size_t>>(keyed.size()).get());
    } else {
      std::sort(keyed.begin(), keyed.end());
    }
    for (std::size_t s = 0; s < keyed.size(); ++s) order[s] = keyed[s].second;
  } else {
    for (std::size_t s = 0; s < order.size(); ++s) order[s] = s;
    // Positions are unique, so this is a total order: the sort is stable by construction.
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const K& ka = v[starts[a]].first;
      const K& kb = v[starts[b]].first;
      if (ka < kb) return true;
      if (kb < ka) return false;
      return a < b;
    });
  }
  bool in_place = true;  // the segments are in order already: nothing to move
  for (std::size_t j = 0; j < order.size() && in_place; ++j) in_place = order[j] == j;
  if (in_place) {
    if (by_value && order.size() < n) sort_each_group(v);  // a key's segments may need merging
    return;
  }
  // Copied out in order into scratch (constructed by the copy: pairs are trivially
  // destructible), then back: the pairs' own pages are resident already.
  using P = std::pair<K, V>;
  const auto scratch = copy_scratch<P>(n);
  P* const out = reinterpret_cast<P*>(scratch.get());
  std::size_t at = 0;
  bool split_keys = false;  // a key in more than one segment: its values may need merging
  for (std::size_t j = 0; j < order.size(); ++j) {
    const std::size_t s = order[j];
    const std::size_t end = s + 1 < starts.size() ? starts[s + 1] : n;
    split_keys = split_keys || (j > 0 && out[at - 1].first == v[starts[s]].first);
    for (std::size_t i = starts[s]; i < end; ++i) ::new (static_cast<void*>(out + at++)) P(v[i]);
  }
  std::copy(out, out + n, v.data());
  if (by_value && split_keys) sort_each_group(v);
}

}  // namespace group_sort

/// Sorts `v` by key, equal keys in input order, or (`by_value`) by (key, value).
template <class K, class V>
void sort_groups(std::vector<std::pair<K, V>>& v, bool by_value, bool may_copy) {
  using P = std::pair<K, V>;
  if constexpr (!std::totally_ordered<V>) by_value = false;
  // Pairs the ways that copy may construct in raw scratch (records are; checked anyway).
  constexpr bool kCopyable = std::is_trivially_destructible_v<P> && std::is_nothrow_copy_constructible_v<P>;
  constexpr bool kIntegralKey = std::is_integral_v<K> && !std::is_same_v<K, bool>;
  if constexpr (kCopyable) {
    if (v.size() >= kGroupSortFrom) {
      if (may_copy) {
        if (const auto starts = group_sort::few_segments(v, by_value); !starts.empty()) {
          group_sort::sort_segments(v, starts, by_value);
          return;
        }
      }
      if constexpr (kIntegralKey && std::totally_ordered<V>) {
        if (by_value) {
          sort_by_key_value_in_place(v);  // no second array: also without room to copy
          return;
        }
      }
      if constexpr (kIntegralKey) {  // the conditions under which sort_by_key takes its radix sort
        if (may_copy) {
          sort_by_key(v, group_sort::copy_scratch<P>(v.size()).get());  // LSD radix: stable
          return;
        }
      }
    }
  }
  if constexpr (std::totally_ordered<V>) {
    if (by_value) {
      std::sort(v.begin(), v.end(), [](const P& a, const P& b) {
        if (a.first < b.first) return true;
        if (b.first < a.first) return false;
        return a.second < b.second;
      });
      return;
    }
  }
  std::stable_sort(v.begin(), v.end(), [](const P& a, const P& b) { return a.first < b.first; });
}

}  // namespace pearl::detail
