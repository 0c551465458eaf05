// detail::sort_groups (core/include/pearl/core/detail/group_sort.hpp), the sort behind
// group_by_key's runs, against std::stable_sort by key and std::sort by (key, value), in
// each of its ways: presorted segments, radix by integral key, comparison sort.
#include <gtest/gtest.h>

#include <algorithm>
#include <compare>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "pearl/core/detail/group_sort.hpp"

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
  auto v = grouped(1000, 30, 2, rng);
  const auto want = stable_by_key(v);
  sort_groups(v, false, true);
  EXPECT_EQ(v, want);
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
