// Exact distinct counts per group (pearl/core/distinct.hpp) on 1–4 simulated ranks
// in-process and on the MPI world under mpirun: groups numbered per rank and unified,
// pairs de-duplicated within a rank and across ranks, values held by one rank or several,
// several exchange rounds, and the partial counts summing to the exact counts.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "pearl/core/distinct.hpp"
#include "pearl/core/map_state.hpp"
#include "test_world.hpp"

namespace pearl {
namespace {

using pearl::testing::on_every_layout;

TEST(Distinct, GroupIndexNumbersKeysInTheOrderMet) {
  GroupIndex<std::pair<std::int32_t, std::uint8_t>> index;
  EXPECT_EQ(index.id({5, 1}), 0U);
  EXPECT_EQ(index.id({-3, 2}), 1U);
  EXPECT_EQ(index.id({5, 1}), 0U);
  for (std::int32_t i = 0; i < 10000; ++i) EXPECT_EQ(index.id({i + 100, 7}), static_cast<std::uint32_t>(i + 2));
  EXPECT_EQ(index.id({-3, 2}), 1U) << "found again after the table grew";
  ASSERT_EQ(index.size(), 10002U);
  EXPECT_EQ(index.keys()[1], (std::pair<std::int32_t, std::uint8_t>{-3, 2}));
}

TEST(Distinct, PairsAreDeDuplicatedAsTheyGrow) {
  DistinctPairs pairs(2);
  for (int round = 0; round < 50; ++round) {
    for (std::uint32_t g = 0; g < 10; ++g) {
      for (std::uint64_t v = 0; v < 1000; ++v) pairs.add(g, v * 0x9E3779B97F4A7C15ULL);
    }
  }
  // 500,000 pairs added, 10,000 distinct: compaction keeps the held pairs near the latter.
  EXPECT_LT(pairs.size(), 10000U + 4 * 4096U);
  EXPECT_GT(pairs.bytes(), 10000U * 12);
  EXPECT_THROW(DistinctPairs(0), Error);
}

/// Every pair as held, in order (partition by partition).
std::vector<std::pair<std::uint32_t, std::uint64_t>> held(const DistinctPairs& pairs) {
  std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
  pairs.for_each_pair([&](std::uint32_t g, std::uint64_t v) { out.emplace_back(g, v); });
  return out;
}

TEST(Distinct, SavedPairsRestoreExactlyAndGoOnAlike) {
  // What a pass saved in its middle holds (social.compliance's map): restored pairs hold the
  // same pairs in the same places with the same capacities, so bytes() (which the caller
  // checks against its memory share) and the compactions to come are the same.
  DistinctPairs saved(3);
  saved.keep_partitions(1, 7);
  const auto add = [](DistinctPairs& p, std::uint64_t from, std::uint64_t to) {
    for (std::uint64_t i = from; i < to; ++i) {
      p.add(static_cast<std::uint32_t>(i % 11), (i % 7000) * 0x9E3779B97F4A7C15ULL);
    }
  };
  add(saved, 0, 60000);
  MapStateWriter w;
  saved.save_state(w);
  MapStateReader r(w.bytes(), "test");
  DistinctPairs restored(3);
  restored.restore_state(r);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(restored.bytes(), saved.bytes());
  EXPECT_EQ(held(restored), held(saved));
  add(saved, 60000, 200000);
  add(restored, 60000, 200000);
  EXPECT_EQ(restored.bytes(), saved.bytes());
  EXPECT_EQ(held(restored), held(saved));
  MapStateReader other(w.bytes(), "test");
  DistinctPairs wider(4);
  EXPECT_THROW(wider.restore_state(other), InputError);
}

// Rank r's pairs: values every rank holds (in groups that depend on the value), values
// only rank r holds, duplicates, the value 0, and group keys met in a rank-dependent order.
struct RankPairs {
  GroupIndex<std::int64_t> groups;
  DistinctPairs pairs{4};
};
void fill(RankPairs& mine, int rank, std::size_t unique_per_rank) {
  const auto r = static_cast<std::uint64_t>(rank);
  // Shared values 0..2999: group v % 7 on every rank, and group 100 + r on rank r.
  for (std::uint64_t v = 0; v < 3000; ++v) {
    const std::uint64_t w = (v + 17 * r) % 3000;  // another order per rank
    mine.pairs.add(mine.groups.id(static_cast<std::int64_t>(w % 7)), w);
    mine.pairs.add(mine.groups.id(static_cast<std::int64_t>(w % 7)), w);  // a duplicate
    if (w % 5 == 0) mine.pairs.add(mine.groups.id(100 + rank), w);
  }
  // Values of rank r alone, spread over groups 0..6 and the rank's group.
  for (std::uint64_t i = 0; i < unique_per_rank; ++i) {
    const std::uint64_t v = ((r + 1) << 40) | i;
    mine.pairs.add(mine.groups.id(static_cast<std::int64_t>(i % 7)), v);
    if (i % 3 == 0) mine.pairs.add(mine.groups.id(100 + rank), v);
  }
}

// The exact counts by brute force over every rank's pairs (each rank can make them all).
std::map<std::int64_t, std::int64_t> expected(int ranks, std::size_t unique_per_rank) {
  std::map<std::int64_t, std::set<std::uint64_t>> sets;
  for (int rank = 0; rank < ranks; ++rank) {
    const auto r = static_cast<std::uint64_t>(rank);
    for (std::uint64_t w = 0; w < 3000; ++w) {
      sets[static_cast<std::int64_t>(w % 7)].insert(w);
      if (w % 5 == 0) sets[100 + rank].insert(w);
    }
    for (std::uint64_t i = 0; i < unique_per_rank; ++i) {
      const std::uint64_t v = ((r + 1) << 40) | i;
      sets[static_cast<std::int64_t>(i % 7)].insert(v);
      if (i % 3 == 0) sets[100 + rank].insert(v);
    }
  }
  std::map<std::int64_t, std::int64_t> out;
  for (const auto& [g, s] : sets) out[g] = static_cast<std::int64_t>(s.size());
  return out;
}

void check_counts(Communicator& comm, std::size_t unique_per_rank, std::size_t round_bytes) {
  RankPairs mine;
  fill(mine, comm.rank(), unique_per_rank);
  const auto unified = unify_groups(comm, mine.groups.keys());
  ASSERT_EQ(unified.keys.size(), 7U + static_cast<std::size_t>(comm.size()));
  ASSERT_TRUE(std::is_sorted(unified.keys.begin(), unified.keys.end()));
  for (std::size_t i = 0; i < mine.groups.size(); ++i) {
    ASSERT_EQ(unified.keys[unified.to_global[i]], mine.groups.keys()[i]);
  }
  PEARL_AGREE_ON_FAILURE(comm);
  DistinctStats stats;
  auto counts = count_distinct(comm, std::move(mine.pairs), unified.to_global, unified.keys.size(), round_bytes, &stats);
  ASSERT_EQ(counts.size(), unified.keys.size());
  if (comm.size() == 1) {
    EXPECT_EQ(stats.pairs_sent, 0U);
  } else {
    // Only shared values' pairs travel: at most this rank's pairs of values 0..2999 (6,600
    // with the duplicates a partition keeps until it grows enough to be de-duplicated).
    EXPECT_GT(stats.pairs_sent, 0U);
    EXPECT_LE(stats.pairs_sent, 6600U);
    EXPECT_GE(stats.values_sent, 3000U + unique_per_rank);
  }
  PEARL_AGREE_ON_FAILURE(comm);
  comm.allreduce(std::span<std::int64_t>(counts), ReduceOp::sum);
  const auto want = expected(comm.size(), unique_per_rank);
  for (std::size_t g = 0; g < counts.size(); ++g) {
    EXPECT_EQ(counts[g], want.at(unified.keys[g])) << "group " << unified.keys[g] << " at " << comm.size() << " ranks";
  }
}

TEST(Distinct, CountsAreExactAcrossRanks) {
  on_every_layout([](Communicator& comm) { check_counts(comm, 5000, std::size_t{64} << 20); });
}

TEST(Distinct, CountsAreExactOverSeveralRounds) {
  // ~140,000 pairs per rank at 16 bytes: several 1 MiB rounds.
  on_every_layout([](Communicator& comm) { check_counts(comm, 100000, 1); });
}

TEST(Distinct, RanksWithoutPairsOrGroupsTakePart) {
  on_every_layout([](Communicator& comm) {
    GroupIndex<std::int64_t> groups;
    DistinctPairs pairs;
    if (comm.rank() == 0) {
      for (std::uint64_t v = 0; v < 100; ++v) pairs.add(groups.id(static_cast<std::int64_t>(v % 3)), v % 50);
    }
    const auto unified = unify_groups(comm, groups.keys());
    PEARL_AGREE_ON_FAILURE(comm);
    auto counts = count_distinct(comm, std::move(pairs), unified.to_global, unified.keys.size(), 1 << 20);
    ASSERT_EQ(counts.size(), 3U);
    PEARL_AGREE_ON_FAILURE(comm);
    comm.allreduce(std::span<std::int64_t>(counts), ReduceOp::sum);
    // values v % 50 for v in 0..99 with group v % 3: each (v % 50, v % 3) pair, distinct values per group
    std::map<std::int64_t, std::set<std::uint64_t>> sets;
    for (std::uint64_t v = 0; v < 100; ++v) sets[static_cast<std::int64_t>(v % 3)].insert(v % 50);
    for (std::size_t g = 0; g < 3; ++g) EXPECT_EQ(counts[g], static_cast<std::int64_t>(sets[unified.keys[g]].size()));
  });
}

}  // namespace
}  // namespace pearl
