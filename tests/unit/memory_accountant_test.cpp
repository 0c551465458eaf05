// The rank's memory accountant (pearl/core/memory_accountant.hpp): a lease gets its share
// when the budget is free, less when earlier leases hold part of it, an error naming it
// when even its least is not free; bytes go back when a lease ends; high-water marks per
// owner. Then the engine as a consumer: a pass's tables are leased and a result's rows in
// memory stay held while the result lives, so a later pass gets less and spills sooner,
// with the same answer.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pearl/core/engine.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/memory_accountant.hpp"
#include "test_world.hpp"

namespace pearl {
namespace {

constexpr std::size_t MiB = std::size_t{1} << 20;

const MemoryAccountant::Use* use_of(const std::vector<MemoryAccountant::Use>& usage, const std::string& owner) {
  for (const auto& u : usage) {
    if (u.owner == owner) return &u;
  }
  return nullptr;
}

TEST(MemoryAccountant, SharesAreFractionsOfTheBudget) {
  const MemoryAccountant memory(16 * MiB);
  EXPECT_EQ(memory.share(MemoryShare::engine_tables), 8 * MiB);
  EXPECT_EQ(memory.share(MemoryShare::shuffle_rounds), 2 * MiB);
  EXPECT_EQ(memory.share(MemoryShare{3, 4}), 12 * MiB);
  EXPECT_EQ((MemoryShare{1, 3}.of(10)), 3u);
  EXPECT_EQ(memory.available(), 16 * MiB);
}

TEST(MemoryAccountant, GrantsTheShareWhenItIsFree) {
  MemoryAccountant memory(16 * MiB);
  const MemoryLease tables = memory.lease("engine tables", MemoryShare::engine_tables);
  EXPECT_EQ(tables.bytes(), 8 * MiB);
  EXPECT_EQ(memory.available(), 8 * MiB);
  const auto* u = use_of(memory.usage(), "engine tables");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->peak, 8 * MiB);
  EXPECT_EQ(u->leases, 1u);
  EXPECT_EQ(u->shrunk, 0u);
}

TEST(MemoryAccountant, ShrinksALeaseToWhatIsFree) {
  MemoryAccountant memory(16 * MiB);
  const MemoryLease kept = memory.lease("job state", 12 * MiB);
  const MemoryLease tables = memory.lease("engine tables", MemoryShare::engine_tables);
  EXPECT_EQ(tables.bytes(), 4 * MiB);  // asked 8, 4 were free
  EXPECT_EQ(memory.available(), 0u);
  const auto* u = use_of(memory.usage(), "engine tables");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->asked, 8 * MiB);
  EXPECT_EQ(u->shrunk, 1u);
}

TEST(MemoryAccountant, ReleasesOnDestructionAndKeepsTheHighWaterMark) {
  MemoryAccountant memory(16 * MiB);
  {
    const MemoryLease a = memory.lease("od trips", 2 * MiB);
    MemoryLease b = memory.lease("od trips", 3 * MiB);
    EXPECT_EQ(memory.available(), 11 * MiB);
    b.shrink_to(1 * MiB);
    EXPECT_EQ(b.bytes(), 1 * MiB);
    EXPECT_EQ(memory.available(), 13 * MiB);
    MemoryLease moved = std::move(b);  // a move hands the bytes over, it does not give them back
    EXPECT_EQ(memory.available(), 13 * MiB);
    EXPECT_EQ(b.bytes(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from lease is empty
  }
  EXPECT_EQ(memory.available(), 16 * MiB);
  EXPECT_EQ(memory.peak(), 5 * MiB);
  const auto* u = use_of(memory.usage(), "od trips");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->peak, 5 * MiB);  // both leases of the owner at once
  EXPECT_EQ(u->leases, 2u);
}

TEST(MemoryAccountant, RefusesWhatCannotShrinkNamingWhoAskedAndWhoHolds) {
  MemoryAccountant memory(16 * MiB);
  const MemoryLease kept = memory.lease("risk_model row blocks", 15 * MiB);
  try {
    (void)memory.lease("shuffle rounds", 2 * MiB, 2 * MiB);
    FAIL() << "a lease below its least was granted";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--memory 16.0 MiB"), std::string::npos) << what;
    EXPECT_NE(what.find("shuffle rounds needs at least 2.0 MiB"), std::string::npos) << what;
    EXPECT_NE(what.find("risk_model row blocks 15.0 MiB"), std::string::npos) << what;
  }
  EXPECT_EQ(memory.available(), 1 * MiB);  // the refused lease took nothing
  EXPECT_EQ(memory.lease("small buffer", 2 * MiB, 0).bytes(), 1 * MiB);
}

TEST(MemoryAccountant, HoldsWhatIsAlreadyThereEvenPastTheBudget) {
  MemoryAccountant memory(4 * MiB);
  const MemoryLease result = memory.hold("engine results", 5 * MiB);
  EXPECT_EQ(result.bytes(), 5 * MiB);
  EXPECT_EQ(memory.available(), 0u);
  EXPECT_EQ(memory.peak(), 5 * MiB);
  EXPECT_EQ(memory.lease("later", 1 * MiB, 0).bytes(), 0u);
}

TEST(MemoryAccountant, ALeaseMayOutliveItsAccountant) {
  MemoryLease lease;
  {
    MemoryAccountant memory(4 * MiB);
    lease = memory.lease("result", 1 * MiB);
  }
  EXPECT_EQ(lease.bytes(), 1 * MiB);
  lease.release();
  EXPECT_EQ(lease.bytes(), 0u);
}

TEST(MemoryAccountant, LeaseOnEveryRankTakesTheSmallestGrant) {
  pearl::testing::on_every_layout([](Communicator& comm) {
    MemoryAccountant memory(16 * MiB);
    const MemoryLease before = memory.lease("earlier", static_cast<std::size_t>(comm.rank()) * MiB);
    const MemoryLease same = memory.lease_on_every_rank(comm, "claims kept", 16 * MiB, 0);
    EXPECT_EQ(same.bytes(), 16 * MiB - static_cast<std::size_t>(comm.size() - 1) * MiB);
  });
}

TEST(MemoryAccountant, LeaseOnEveryRankFailsOnEveryRank) {
  pearl::testing::on_every_layout([](Communicator& comm) {
    MemoryAccountant memory(4 * MiB);
    const MemoryLease before = memory.lease("earlier", comm.rank() == comm.size() - 1 ? 4 * MiB : 0);
    EXPECT_THROW((void)memory.lease_on_every_rank(comm, "claims kept", 1 * MiB, 1 * MiB), Error);
  });
}

// The engine leases a pass's tables and holds a live result's rows: with a job's lease and
// a live result taking most of the budget, the next pass's tables are granted less and it
// spills, and its answer is the same as with the budget free.
TEST(MemoryAccountant, AnEnginePassShrinksBesideALiveResult) {
  pearl::testing::on_every_layout([](Communicator& comm) {
    constexpr std::uint64_t rows = 200'000;
    const auto sums = [&](Engine& engine) {
      RangeSource src(comm, rows, 4096);
      return engine.reduce_by_key<std::int64_t, std::int64_t>(
          src,
          [](RowRange r, auto& emit) {
            for (auto i = r.begin; i < r.end; ++i) emit(static_cast<std::int64_t>(mix64(i) % 50'000), std::int64_t{1});
          },
          std::plus<>{});
    };
    EngineOptions o;
    o.memory.total = 4 * MiB;
    Engine free_engine(comm, o);
    const auto expected = sums(free_engine).gather(comm);
    EXPECT_EQ(free_engine.memory().available(), 4 * MiB);  // the pass's leases and its result are gone

    Engine engine(comm, o);
    MemoryAccountant& memory = engine.memory();
    const auto first = sums(engine);  // alive through the second pass
    const auto* held = use_of(memory.usage(), "engine results");
    ASSERT_NE(held, nullptr);
    EXPECT_GT(held->peak, 0u);  // the rows kept in memory; the rest of the result spilled
    EXPECT_LE(held->peak, first.local_size() * sizeof(std::pair<std::int64_t, std::int64_t>));
    EXPECT_EQ(memory.available(), 4 * MiB - held->peak);
    const MemoryLease job = memory.lease("job state", MemoryShare::job_alone);
    const auto second = sums(engine);
    const auto* tables = use_of(memory.usage(), "engine tables");
    ASSERT_NE(tables, nullptr);
    EXPECT_EQ(tables->leases, 2u);
    EXPECT_EQ(tables->shrunk, 1u);  // the second pass's
    if (comm.size() == 1) {
      EXPECT_GT(engine.last_stats().spilled_runs, 0u);  // 50,000 keys in < 1 MiB
    }
    EXPECT_EQ(second.gather(comm), expected);
  });
}

}  // namespace
}  // namespace pearl
