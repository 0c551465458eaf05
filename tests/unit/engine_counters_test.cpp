// The engine's counters behind the run metrics (EngineStats, Engine::history) add up over
// ranks: every emitted pair is counted, pairs sent after combining are at most those
// emitted, and what all ranks sent equals what they received; each operation is recorded
// once, in order, with its kind. Run on 1-4 simulated ranks, and under mpirun.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>

#include "pearl/core/engine.hpp"
#include "test_world.hpp"

namespace pearl {
namespace {

using pearl::testing::on_every_layout;

TEST(EngineCounters, AddUpOverRanks) {
  constexpr std::uint64_t rows = 60'000;
  for (const int threads : {1, 2}) {
    on_every_layout([&](Communicator& comm) {
      EngineOptions o;
      o.memory.total = std::size_t{4} << 20;  // small: several exchanges and spills
      o.threads = threads;
      Engine engine(comm, o);
      RangeSource src(comm, rows, 1024);
      auto sums = engine.reduce_by_key<std::int64_t, std::int64_t>(
          src,
          [](RowRange r, auto& emit) {
            for (auto i = r.begin; i < r.end; ++i) emit(static_cast<std::int64_t>(mix64(i) % 20'000), std::int64_t{1});
          },
          std::plus<>{});
      auto sorted = engine.sort_globally(sums);
      const auto& history = engine.history();
      std::int64_t totals[5] = {0, 0, 0, 0, 0};
      for (const auto& op : history) {
        totals[0] += static_cast<std::int64_t>(op.stats.pairs_emitted);
        totals[1] += static_cast<std::int64_t>(op.stats.pairs_sent);
        totals[2] += static_cast<std::int64_t>(op.stats.bytes_sent);
        totals[3] += static_cast<std::int64_t>(op.stats.bytes_received);
      }
      totals[4] = static_cast<std::int64_t>(history.size() == 2 ? history[0].stats.pairs_emitted : 0);
      comm.allreduce(std::span<std::int64_t>(totals, 5), ReduceOp::sum);
      ASSERT_EQ(history.size(), 2U);
      EXPECT_EQ(history[0].kind, "reduce_by_key");
      EXPECT_EQ(history[1].kind, "sort_globally");
      EXPECT_GE(history[1].started, history[0].started + history[0].seconds - 1e-9);
      EXPECT_EQ(totals[4], static_cast<std::int64_t>(rows));  // every emit counted once
      EXPECT_LE(totals[1], totals[0]);
      EXPECT_EQ(totals[2], totals[3]);  // sent over all ranks = received over all ranks
      if (comm.size() == 1) EXPECT_EQ(totals[2], 0);
      else EXPECT_GT(totals[2], 0);
      EXPECT_EQ(history[0].stats.pairs_sent * 16, history[0].stats.bytes_sent);  // 16-byte pairs
      (void)sorted;
    });
  }
}

}  // namespace
}  // namespace pearl
