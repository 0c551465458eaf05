// Exact medians and MADs of values spread over ranks (pearl/core/quantiles.hpp), on 1–4
// simulated ranks in-process and on the MPI world: every layout gives the values a
// sort of all of them gives, bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "pearl/core/quantiles.hpp"
#include "test_world.hpp"

namespace pearl {
namespace {

using pearl::testing::on_every_layout;

double median_of_sorted(const std::vector<double>& v) {
  const std::size_t n = v.size();
  return (v[(n - 1) / 2] + v[n / 2]) / 2;
}

// The statistics computed the obvious way, from all values in one place.
GroupSpread<int> reference(int key, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const double m = median_of_sorted(v);
  std::vector<double> dev;
  for (double x : v) dev.push_back(std::abs(x - m));
  std::sort(dev.begin(), dev.end());
  return {key, static_cast<std::int64_t>(v.size()), m, median_of_sorted(dev)};
}

// Group g's values: sizes 1..., odd and even, ties, negatives, zeros of both signs,
// magnitudes far apart; value i goes to rank i % ranks (group 5 only to rank 0).
std::vector<double> values_of(int g) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(g) * 7919 + 1);
  const std::size_t n = g == 0 ? 1 : g == 1 ? 2 : static_cast<std::size_t>(37 * g + g % 2);
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) {
    switch (g % 4) {
      case 0: v.push_back(std::round(std::lognormal_distribution<double>(7, 1)(rng) * 100) / 100); break;
      case 1: v.push_back(static_cast<double>(rng() % 5) - 2.0); break;  // many ties, MAD often 0
      case 2: v.push_back(i % 3 == 0 ? -0.0 : std::normal_distribution<double>(0, 1e-3)(rng)); break;
      default: v.push_back(i % 10 == 0 ? 1e12 : -std::exponential_distribution<double>(1)(rng)); break;
    }
  }
  return v;
}

TEST(Quantiles, MedianAndMadEqualASortOfAllValues) {
  on_every_layout([](Communicator& comm) {
    const int groups = 12;
    std::vector<ValueGroup<int>> mine;
    for (int g = groups - 1; g >= 0; --g) {  // any order
      const auto all = values_of(g);
      ValueGroup<int> part{g, {}};
      for (std::size_t i = 0; i < all.size(); ++i) {
        const int owner = g == 5 ? 0 : static_cast<int>(i % static_cast<std::size_t>(comm.size()));
        if (owner == comm.rank()) part.values.push_back(all[i]);
      }
      sort_values(part.values);
      if (!part.values.empty()) mine.push_back(std::move(part));
    }
    const auto got = median_and_mad(comm, mine);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(groups));
    for (int g = 0; g < groups; ++g) {
      const auto want = reference(g, values_of(g));
      const auto& s = got[static_cast<std::size_t>(g)];
      EXPECT_EQ(s.key, g);
      EXPECT_EQ(s.count, want.count) << "group " << g;
      EXPECT_EQ(s.median, want.median) << "group " << g;
      EXPECT_EQ(s.mad, want.mad) << "group " << g;
    }
  });
}

TEST(Quantiles, SortValuesAgreesWithStdSort) {
  for (int g = 0; g < 12; ++g) {
    for (const std::size_t copies : {1, 40}) {  // below and above the radix sort's threshold
      std::vector<double> v;
      for (std::size_t c = 0; c < copies; ++c) {
        for (double x : values_of(g)) v.push_back(x * static_cast<double>(c + 1));
      }
      auto want = v;
      std::sort(want.begin(), want.end());
      sort_values(v);
      ASSERT_EQ(v.size(), want.size());
      for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], want[i]) << "group " << g << " at " << i;
      EXPECT_FALSE(std::any_of(v.begin(), v.end(), [](double x) { return std::signbit(x) && x == 0; }));
    }
  }
}

TEST(Quantiles, NoGroupsAnywhere) {
  on_every_layout([](Communicator& comm) { EXPECT_TRUE(median_and_mad(comm, std::vector<ValueGroup<int>>{}).empty()); });
}

TEST(Quantiles, SelectExactFindsEveryRank) {
  on_every_layout([](Communicator& comm) {
    // Values 0.5, 1.5, ..., 99.5, value i on rank i % ranks: the k-th smallest is k + 0.5.
    std::vector<double> mine;
    for (int i = 0; i < 100; ++i) {
      if (i % comm.size() == comm.rank()) mine.push_back(i + 0.5);
    }
    std::vector<std::int64_t> want;
    for (std::int64_t k = 0; k < 100; k += 9) want.push_back(k);
    want.push_back(-1);  // not asked: 0
    const auto got = select_exact(
        comm, want, [&](std::size_t, double t) { return count_at_most(mine, t); },
        [&](std::size_t) { return mine.empty() ? std::pair(1.0, 0.0) : std::pair(mine.front(), mine.back()); });
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t q = 0; q + 1 < want.size(); ++q) EXPECT_EQ(got[q], static_cast<double>(want[q]) + 0.5);
    EXPECT_EQ(got.back(), 0.0);
  });
}

TEST(Quantiles, OrderedBitsFollowTheOrderOfDoubles) {
  const std::vector<double> v{-1e300, -2.5, -1e-300, -0.0, 0.0, 1e-300, 3.0, 1e300};
  for (std::size_t i = 0; i + 1 < v.size(); ++i) {
    EXPECT_EQ(v[i] < v[i + 1], ordered_bits(v[i]) < ordered_bits(v[i + 1])) << v[i] << " " << v[i + 1];
    EXPECT_EQ(from_ordered_bits(ordered_bits(v[i])), v[i]);
  }
  EXPECT_EQ(ordered_bits(-0.0), ordered_bits(0.0));
  const std::vector<double> sorted{1, 2, 4, 4, 7};
  EXPECT_EQ(count_within(sorted, 4, 0), 2u);
  EXPECT_EQ(count_within(sorted, 4, 2), 3u);
  EXPECT_EQ(count_within(sorted, 4, 3), 5u);
  EXPECT_EQ(count_at_most(sorted, 4), 4u);
}

}  // namespace
}  // namespace pearl
