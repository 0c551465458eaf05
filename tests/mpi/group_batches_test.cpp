// GroupBatches (pearl/core/group_batches.hpp): a group_by_key result read by a second pass
// in batches of whole groups, in memory and spilled, with 1 and 2 map threads; on 1-4
// simulated ranks in-process and on the MPI world under mpirun.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "pearl/core/collectives.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/group_batches.hpp"
#include "test_world.hpp"

namespace pearl {
namespace {

using pearl::testing::on_every_layout;

constexpr std::uint64_t kRows = 120'000;
constexpr std::uint64_t kKeys = 4'000;
std::int64_t key_of(std::uint64_t i) { return static_cast<std::int64_t>(mix64(i) % kKeys); }
std::int64_t value_of(std::uint64_t i) { return static_cast<std::int64_t>(mix64(i ^ 0x5eedULL) % 100'000); }

EngineOptions options(int threads, std::size_t memory) {
  EngineOptions o;
  o.memory.total = memory;
  o.threads = threads;
  return o;
}

TEST(GroupBatches, CutsOnlyBetweenKeysAndKeepsEveryPairInOrder) {
  std::map<std::int64_t, std::vector<std::int64_t>> ref;  // the whole input, grouped
  for (std::uint64_t i = 0; i < kRows; ++i) ref[key_of(i)].push_back(value_of(i));
  for (auto& [k, vs] : ref) std::sort(vs.begin(), vs.end());
  // 64 MiB: one run in memory; 1 MiB: the first pass spills and its runs are merged.
  for (const std::size_t memory : {std::size_t{64} << 20, std::size_t{1} << 20}) {
    on_every_layout([&](Communicator& comm) {
      Engine engine(comm, options(1, memory));
      RangeSource src(comm, kRows, 4096);
      const auto groups = engine.group_by_key<std::int64_t, std::int64_t>(
          src, [](RowRange r, auto& emit) { for (auto i = r.begin; i < r.end; ++i) emit(key_of(i), value_of(i)); },
          GroupOptions{.sort_values = true});
      // Batches of about 50 pairs, where groups hold about 30: most batches end early or
      // late, never inside a group.
      GroupBatches<std::int64_t, std::int64_t> batches(groups, 50);
      std::vector<std::pair<std::int64_t, std::int64_t>> seen;
      std::size_t count = 0;
      bool split = false;
      while (auto b = batches.next()) {
        ++count;
        ASSERT_FALSE(b->empty());
        if (!seen.empty() && seen.back().first == b->front().first) split = true;  // a key in two batches
        seen.insert(seen.end(), b->begin(), b->end());
        batches.recycle(std::move(*b));
      }
      EXPECT_FALSE(split);
      EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
      if (!seen.empty()) {
        EXPECT_GT(count, seen.size() / 200);
      }
      std::size_t mine = 0;
      for (const auto& [k, vs] : ref) {
        if (detail::HashPartitioner{}(k, comm.size()) == comm.rank()) mine += vs.size();
      }
      EXPECT_EQ(seen.size(), mine);
      PEARL_AGREE_ON_FAILURE(comm);
      const auto all = detail::gather_sorted(comm, seen);
      std::vector<std::pair<std::int64_t, std::int64_t>> want;
      for (const auto& [k, vs] : ref) {
        for (auto v : vs) want.emplace_back(k, v);
      }
      EXPECT_EQ(all, want);
    });
  }
}

TEST(GroupBatches, FeedASecondPassWholeGroupsWithParallelMapThreads) {
  // Second pass: per key, its smallest value and its number of values, summed by key % 7;
  // the map needs whole groups to get them right, whichever thread maps a batch.
  std::map<std::int64_t, std::vector<std::int64_t>> ref;
  for (std::uint64_t i = 0; i < kRows; ++i) ref[key_of(i)].push_back(value_of(i));
  std::map<std::int64_t, std::int64_t> want;
  for (const auto& [k, vs] : ref) want[k % 7] += *std::min_element(vs.begin(), vs.end()) + static_cast<std::int64_t>(vs.size());
  const std::vector<std::pair<std::int64_t, std::int64_t>> expected(want.begin(), want.end());
  for (int threads : {1, 2}) {
    on_every_layout([&](Communicator& comm) {
      Engine engine(comm, options(threads, std::size_t{1} << 20));
      RangeSource src(comm, kRows, 4096);
      const auto groups = engine.group_by_key<std::int64_t, std::int64_t>(
          src, [](RowRange r, auto& emit) { for (auto i = r.begin; i < r.end; ++i) emit(key_of(i), value_of(i)); },
          GroupOptions{.sort_values = true});
      GroupBatches<std::int64_t, std::int64_t> batches(groups, 100);
      const auto sums = engine.reduce_by_key<std::int64_t, std::int64_t>(
          batches,
          [](const std::vector<std::pair<std::int64_t, std::int64_t>>& b, auto& emit) {
            for (std::size_t i = 0; i < b.size();) {  // a group at a time: [i, j)
              std::size_t j = i + 1;
              while (j < b.size() && b[j].first == b[i].first) ++j;
              // Its smallest value (values are sorted) plus its count; a group split between
              // two batches would be counted twice, each part with its own minimum.
              emit(b[i].first % 7, b[i].second + static_cast<std::int64_t>(j - i));
              i = j;
            }
          },
          std::plus<>{});
      EXPECT_EQ(sums.gather(comm), expected) << threads << " threads";
    });
  }
}

}  // namespace
}  // namespace pearl
