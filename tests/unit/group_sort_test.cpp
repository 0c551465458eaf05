// detail::sort_groups (core/include/pearl/core/detail/group_sort.hpp), the sort behind
// group_by_key's runs, against std::stable_sort by key and std::sort by (key, value), in
// each of its ways: presorted segments, in-place radix by (integral key, value), LSD radix
// by integral key, comparison sort.
#include <gtest/gtest.h>

#include <algorithm>
#include <compare>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "pearl/core/detail/group_sort.hpp"
#include "pearl/core/detail/radix_in_place.hpp"

namespace {

using pearl::detail::sort_groups;

/// A value ordered by `t` only; `id` tells equal values apart, so stability is visible.
struct Stamp {
  std::int64_t t = 0;
  std::uint32_t id = 0;
  std::uint32_t pad = 0;
  bool operator<(const Stamp& o) const noexcept { return t < o.t; }
  bool operator==(const Stamp& o) const noexcept { return t == o.t; }
};

/// A value ordered by every field: unique values make the (key, value) order unique.
struct Tick {
  std::int64_t t = 0;
  std::uint64_t row = 0;
  auto operator<=>(const Tick&) const = default;
};

/// A key that is not integral (the ways that compare keys).
struct Cell {
  std::int32_t col = 0, row = 0;
  auto operator<=>(const Cell&) const = default;
};

/// A value with a sort_prefix() (its slot, sign bit flipped): large groups are
/// radix-sorted on it first, then compared.
struct Ping {
  std::int64_t slot = 0;
  std::uint64_t vehicle = 0;
  double speed = 0;
  auto operator<=>(const Ping&) const = default;
  [[nodiscard]] std::uint64_t sort_prefix() const noexcept { return static_cast<std::uint64_t>(slot) ^ (std::uint64_t{1} << 63); }
};
static_assert(pearl::detail::HasSortPrefix<Ping>);

template <class K, class V>
std::vector<std::pair<K, V>> stable_by_key(std::vector<std::pair<K, V>> v) {
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return v;
}
template <class K, class V>
std::vector<std::pair<K, V>> by_key_value(std::vector<std::pair<K, V>> v) {
  std::sort(v.begin(), v.end());
  return v;
}

/// `keys` groups of about `per` values, stored group after group with ascending times
/// (as a card's taps are), optionally cut into `pieces` stretches stored apart.
std::vector<std::pair<std::uint64_t, Tick>> grouped(std::size_t keys, std::size_t per, std::size_t pieces,
                                                    std::mt19937_64& rng) {
  std::vector<std::pair<std::uint64_t, Tick>> v;
  std::uint64_t row = 0;
  std::vector<std::vector<std::pair<std::uint64_t, Tick>>> parts(pieces);
  for (std::size_t k = 0; k < keys; ++k) {
    const std::uint64_t key = rng();
    std::int64_t t = static_cast<std::int64_t>(rng() % 1000);
    for (std::size_t i = 0; i < per; ++i) {
      t += static_cast<std::int64_t>(rng() % 3);  // repeats: ties broken by row
      parts[rng() % pieces].emplace_back(key, Tick{t, row++});
    }
  }
  for (auto& p : parts) v.insert(v.end(), p.begin(), p.end());
  return v;
}

TEST(GroupSort, PresortedSegmentsSortByKeyAndValue) {
  std::mt19937_64 rng(1);
  for (std::size_t pieces : {1, 3}) {  // 3: a key's values in several stretches, interleaved
    auto v = grouped(2000, 20, pieces, rng);
    const auto want = by_key_value(v);
    sort_groups(v, true, true);
    EXPECT_EQ(v, want) << pieces << " pieces";
  }
}

TEST(GroupSort, PresortedSegmentsSortByKeyStably) {
  std::mt19937_64 rng(2);
  // Many segments (the segments' own order by radix sort) and few (by comparison): a
  // key's segments, stored apart, stay in input order either way.
  for (const auto& [keys, per] : {std::pair<std::size_t, std::size_t>{1000, 30}, {40, 150}}) {
    auto v = grouped(keys, per, 3, rng);
    const auto want = stable_by_key(v);
    sort_groups(v, false, true);
    EXPECT_EQ(v, want) << keys << " keys";
  }
}

TEST(GroupSort, RandomIntegralKeysGoByRadixAndStayStable) {
  std::mt19937_64 rng(3);
  for (std::uint64_t range : {std::uint64_t{50}, std::uint64_t{1} << 40, ~std::uint64_t{0}}) {
    std::vector<std::pair<std::uint64_t, Stamp>> v;
    for (std::uint32_t i = 0; i < 20000; ++i) v.push_back({rng() % range, Stamp{static_cast<std::int64_t>(rng() % 7), i}});
    const auto want = stable_by_key(v);
    auto got = v;
    sort_groups(got, false, true);
    EXPECT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].first, want[i].first) << i;
      ASSERT_EQ(got[i].second.id, want[i].second.id) << i;  // input order within a key
    }
  }
}

TEST(GroupSort, RandomIntegralKeysSortByValue) {
  std::mt19937_64 rng(4);
  std::vector<std::pair<std::int64_t, Tick>> v;  // signed keys, negative ones too
  for (std::uint64_t i = 0; i < 30000; ++i) v.push_back({static_cast<std::int64_t>(rng() % 4000) - 2000, Tick{static_cast<std::int64_t>(rng() % 100), i}});
  const auto want = by_key_value(v);
  sort_groups(v, true, true);
  EXPECT_EQ(v, want);
}

TEST(GroupSort, InPlaceRadixSortsByKeyAndValueWhateverTheKeys) {
  // Key spreads that take every branch: one key (values only), a few keys (buckets of one
  // key), keys differing in low bytes only, in high bytes only (zero bytes skipped), the
  // full 64 bits, and signed keys around zero; sizes below and above the small-bucket cut.
  std::mt19937_64 rng(6);
  const std::vector<std::uint64_t> masks{0, 3, 0xffff, 0xff00000000000000, ~std::uint64_t{0}};
  for (std::uint64_t mask : masks) {
    for (std::size_t n : {std::size_t{2}, std::size_t{150}, std::size_t{5000}, std::size_t{70000}}) {
      std::vector<std::pair<std::uint64_t, Tick>> v;
      for (std::uint64_t i = 0; i < n; ++i) v.push_back({rng() & mask, Tick{static_cast<std::int64_t>(rng() % 30), i}});
      const auto want = by_key_value(v);
      pearl::detail::sort_by_key_value_in_place(v);
      ASSERT_EQ(v, want) << "mask " << mask << ", " << n << " pairs";
    }
  }
  std::vector<std::pair<std::int32_t, Tick>> signed_keys;
  for (std::uint64_t i = 0; i < 40000; ++i) {
    signed_keys.push_back({static_cast<std::int32_t>(rng() % 600) - 300, Tick{static_cast<std::int64_t>(rng() % 9), i}});
  }
  const auto want = by_key_value(signed_keys);
  pearl::detail::sort_by_key_value_in_place(signed_keys);
  EXPECT_EQ(signed_keys, want);
}

TEST(GroupSort, ByValueWithoutRoomToCopyStillSortsIntegralKeys) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<std::uint64_t, Tick>> v;
  for (std::uint64_t i = 0; i < 50000; ++i) v.push_back({rng() % 3000, Tick{static_cast<std::int64_t>(rng() % 40), i}});
  const auto want = by_key_value(v);
  sort_groups(v, true, false);  // no second array allowed: the in-place radix sort
  EXPECT_EQ(v, want);
}

TEST(GroupSort, ValuesWithASortPrefixSortAsByOperatorLess) {
  // Few keys, so groups are large enough for the prefix's radix passes; slots negative and
  // positive, spread over one byte or several; repeated (slot, vehicle) with other speeds.
  std::mt19937_64 rng(8);
  for (std::int64_t spread : {std::int64_t{200}, std::int64_t{1} << 40}) {
    std::vector<std::pair<std::uint64_t, Ping>> v;
    for (int i = 0; i < 60000; ++i) {
      const std::int64_t slot = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(spread)) - spread / 2;
      v.push_back({rng() % 7, Ping{slot, rng() % 5, static_cast<double>(rng() % 100) / 4}});
    }
    auto presorted_segments = by_key_value(v);  // way 1 with keys split in two segments
    std::rotate(presorted_segments.begin(), presorted_segments.begin() + 12345, presorted_segments.end());
    const auto want = by_key_value(v);
    sort_groups(v, true, true);
    EXPECT_EQ(v, want) << "spread " << spread;
    sort_groups(presorted_segments, true, true);
    EXPECT_EQ(presorted_segments, want) << "spread " << spread << ", segments";
  }
}

TEST(GroupSort, OtherKeysAndNoRoomToCopyFallBackToComparing) {
  std::mt19937_64 rng(5);
  std::vector<std::pair<Cell, Tick>> cells;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    cells.push_back({Cell{static_cast<std::int32_t>(rng() % 9) - 4, static_cast<std::int32_t>(rng() % 5)}, Tick{static_cast<std::int64_t>(rng() % 50), i}});
  }
  auto want = by_key_value(cells);
  auto got = cells;
  sort_groups(got, true, true);
  EXPECT_EQ(got, want);
  got = cells;
  sort_groups(got, true, false);
  EXPECT_EQ(got, want);

  auto grouped_cells = want;  // presorted: the segments way, with a non-integral key
  std::reverse(grouped_cells.begin(), grouped_cells.end());
  std::stable_sort(grouped_cells.begin(), grouped_cells.end(), [](const auto& a, const auto& b) { return b.first < a.first; });
  const auto want_grouped = stable_by_key(grouped_cells);
  sort_groups(grouped_cells, false, true);
  EXPECT_EQ(grouped_cells, want_grouped);

  auto ints = grouped(3000, 5, 1, rng);
  std::shuffle(ints.begin(), ints.end(), rng);
  const auto want_ints = stable_by_key(ints);
  sort_groups(ints, false, false);
  EXPECT_EQ(ints, want_ints);
}

TEST(GroupSort, SmallAndEmptyInputs) {
  std::vector<std::pair<std::uint64_t, Tick>> none;
  sort_groups(none, true, true);
  EXPECT_TRUE(none.empty());
  std::vector<std::pair<std::uint64_t, Tick>> few{{3, {2, 0}}, {1, {5, 1}}, {3, {1, 2}}, {1, {4, 3}}};
  sort_groups(few, true, true);
  EXPECT_EQ(few, by_key_value(few));
}

}  // namespace
