// pearl/core/detail/sort_by_key.hpp — not API: the sort behind HashTable::take_sorted.
//
//   std::vector<std::pair<std::int64_t, double>> pairs = ...;   // distinct keys
//   detail::sort_by_key(pairs);
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "pearl/core/detail/big_array.hpp"

namespace pearl::detail {

/// From this many pairs on, integral keys take the radix sort (below, std::sort by key).
inline constexpr std::size_t kRadixSortFrom = 512;

/// An integral key as an unsigned integer in the same order (signed keys: the sign bit
/// flipped): the digits the radix sorts read (this one and radix_in_place.hpp's).
template <class K>
std::make_unsigned_t<K> radix_key(K k) noexcept {
  using U = std::make_unsigned_t<K>;
  auto u = static_cast<U>(k);
  if constexpr (std::is_signed_v<K>) u ^= static_cast<U>(U{1} << (8 * sizeof(K) - 1));
  return u;
}

/// Sorts pairs with distinct keys by key (the radix sort is stable, which group_sort.hpp
/// relies on for repeated keys). Integral keys: LSD radix sort, a byte per
/// pass, skipping the bytes in which no two keys differ (keys below 2^24 take three
/// passes); other keys: std::sort.
/// `scratch`: n pairs' bytes for the radix sort to use, or nullptr (it takes a BigArray).
template <class K, class V>
void sort_by_key(std::vector<std::pair<K, V>>& v, std::byte* scratch = nullptr) {
  using P = std::pair<K, V>;
  const std::size_t n = v.size();
  if constexpr (std::is_integral_v<K> && !std::is_same_v<K, bool> && std::is_trivially_destructible_v<V> &&
                std::is_nothrow_copy_constructible_v<V>) {
    if (n >= kRadixSortFrom) {
      using U = std::make_unsigned_t<K>;
      constexpr std::size_t digits = sizeof(K);
      U varying = 0;
      const U first = radix_key(v[0].first);
      for (const P& p : v) varying |= static_cast<U>(radix_key(p.first) ^ first);
      std::array<unsigned, digits> pass{};
      std::size_t passes = 0;
      for (unsigned d = 0; d < digits; ++d) {
        if (((varying >> (8 * d)) & 0xff) != 0) pass[passes++] = d;
      }
      if (passes == 0) return;
      std::vector<std::array<std::size_t, 256>> count(passes, std::array<std::size_t, 256>{});
      for (const P& p : v) {
        const U u = radix_key(p.first);
        for (std::size_t j = 0; j < passes; ++j) ++count[j][(u >> (8 * pass[j])) & 0xff];
      }
      // Scratch for n pairs, constructed by the scatter (pairs are trivially destructible).
      static_assert(alignof(P) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
      BigArray<std::byte> own;
      if (scratch == nullptr) own = BigArray<std::byte>(n * sizeof(P), false);
      P* tmp = reinterpret_cast<P*>(scratch != nullptr ? scratch : own.get());
      P* src = v.data();
      P* dst = tmp;
      for (std::size_t j = 0; j < passes; ++j) {
        std::array<std::size_t, 256> at{};
        std::size_t sum = 0;
        for (std::size_t b = 0; b < 256; ++b) {
          at[b] = sum;
          sum += count[j][b];
        }
        const unsigned shift = 8 * pass[j];
        for (std::size_t i = 0; i < n; ++i) {
          ::new (static_cast<void*>(dst + at[(radix_key(src[i].first) >> shift) & 0xff]++)) P(src[i]);
        }
        std::swap(src, dst);
      }
      if (src != v.data()) std::copy(src, src + n, v.data());
      return;
    }
  }
  std::sort(v.begin(), v.end(), [](const P& a, const P& b) { return a.first < b.first; });
}

}  // namespace pearl::detail
