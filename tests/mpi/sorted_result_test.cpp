// SortedResultBuilder (pearl/core/sorted_result.hpp): pairs pushed in ascending key order
// on each rank come back as a KeyedResult, in memory and spilled to scratch, and
// Engine::sort_globally turns the ranks' interleaved key ranges into contiguous ones; on
// 1-4 simulated ranks in-process and on the MPI world under mpirun.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "pearl/core/engine.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/sorted_result.hpp"
#include "test_world.hpp"

namespace pearl {
namespace {

using pearl::testing::on_every_layout;

/// A composite key like the jobs' (cell, slot): ordered member by member.
struct CellSlot {
  std::int32_t col = 0, row = 0;
  std::int64_t slot = 0;
  auto operator<=>(const CellSlot&) const = default;
};

CellSlot key_of(std::int64_t i) { return {static_cast<std::int32_t>(i / 1000 - 7), static_cast<std::int32_t>(i / 10 % 100), i % 10}; }

TEST(SortedResult, KeepsPairsInOrderInMemoryAndSpilled) {
  for (const std::size_t memory : {std::size_t{1} << 20, std::size_t{0}}) {  // 0: a spill every 1024 pairs
    SortedResultBuilder<CellSlot, double> rows({}, "sorted-result-test", memory);
    for (std::int64_t i = 0; i < 5000; ++i) rows.push(key_of(3 * i), static_cast<double>(i) / 4);
    EXPECT_EQ(rows.size(), 5000u);
    const KeyedResult<CellSlot, double> result = std::move(rows).finish();
    std::int64_t i = 0;
    result.for_each([&](const CellSlot& k, double v) {
      EXPECT_EQ(k, key_of(3 * i)) << "pair " << i;
      EXPECT_EQ(v, static_cast<double>(i) / 4);
      ++i;
    });
    EXPECT_EQ(i, 5000) << "memory " << memory;
    EXPECT_EQ(result.local_size(), 5000u);
  }
}

TEST(SortedResult, RefusesAKeyNotAboveThePreviousOne) {
  SortedResultBuilder<std::int64_t, std::int64_t> rows({}, "sorted-result-test", 1 << 20);
  rows.push(1, 10);
  rows.push(4, 10);
  EXPECT_THROW(rows.push(4, 11), Error);  // repeated
  EXPECT_THROW(rows.push(2, 11), Error);  // descending
}

TEST(SortedResult, SortGloballyConcatenatesInKeyOrder) {
  for (const std::size_t memory : {std::size_t{64} << 20, std::size_t{1} << 20}) {
    on_every_layout([&](Communicator& comm) {
      EngineOptions o;
      o.memory.total = memory;
      Engine engine(comm, o);
      // Rank r holds keys r, r + p, r + 2p, ...: every rank spans the whole range.
      const std::int64_t p = comm.size(), n = 30'000;
      SortedResultBuilder<CellSlot, std::int64_t> rows(engine.options().scratch, "sorted-result-test",
                                                       engine.memory().share(MemoryShare::engine_tables) / 64);
      for (std::int64_t i = comm.rank(); i < n; i += p) rows.push(key_of(i), i);
      PEARL_AGREE_ON_FAILURE(comm);
      const auto sorted = engine.sort_globally(std::move(rows).finish());
      const auto all = sorted.gather(comm);
      ASSERT_EQ(all.size(), static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(all[static_cast<std::size_t>(i)].second, i) << "memory " << memory << ", ranks " << p;
      }
      // Each rank's part is a contiguous range of the keys (key_of grows with i).
      const auto mine = sorted.local();
      if (!mine.empty()) {
        EXPECT_EQ(mine.back().second - mine.front().second + 1, static_cast<std::int64_t>(mine.size()))
            << "rank " << comm.rank() << " of " << p;
      }
    });
  }
}

}  // namespace
}  // namespace pearl
