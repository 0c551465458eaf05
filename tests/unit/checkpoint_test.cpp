// Unit tests of stopping at a safe point and of checkpoints, on simulated ranks: a stop
// request reaches every rank at one agreement; an engine run resumed from a checkpoint
// returns the saved results without mapping again, identical to the uninterrupted run.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <bit>
#include <csignal>
#include <filesystem>
#include <functional>

#include "pearl/cluster/local_communicator.hpp"
#include "pearl/cluster/run_checkpoint.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/checkpoint.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/stop.hpp"
#include "test_world.hpp"

namespace pearl::cluster {
namespace {

struct ClearStop {
  ClearStop() { clear_stop(); }
  ~ClearStop() { clear_stop(); }
};

TEST(Stop, EveryRankStopsAtTheSameAgreement) {
  const ClearStop clean;
  const StopPoints open;
  run_local(3, [](Communicator& comm) {
    agree_on_failure(comm, nullptr);  // nothing requested yet
    if (comm.rank() == 2) request_stop(SIGUSR1);
    comm.barrier();
    {
      const DeferStop deferred;  // a checkpoint being written: not now
      agree_on_failure(comm, nullptr);
    }
    try {
      agree_on_failure(comm, nullptr);
      ADD_FAILURE() << "no stop on rank " << comm.rank();
    } catch (const StopRequested& e) {
      EXPECT_EQ(e.signal(), SIGUSR1);
      EXPECT_EQ(std::string(e.what()), "stopped by SIGUSR1 at a safe point");
    }
  });
}

TEST(Stop, IgnoredWhileNoStopPointsAreOpen) {
  const ClearStop clean;
  request_stop(SIGTERM);
  run_local(2, [](Communicator& comm) { agree_on_failure(comm, nullptr); });
}

TEST(Stop, AFailureOutranksAStop) {
  const ClearStop clean;
  const StopPoints open;
  request_stop(SIGTERM);
  run_local(2, [](Communicator& comm) {
    std::exception_ptr mine;
    if (comm.rank() == 1) mine = std::make_exception_ptr(InputError("bad row"));
    try {
      agree_on_failure(comm, mine);
      ADD_FAILURE() << "no exception";
    } catch (const StopRequested&) {
      ADD_FAILURE() << "the stop hid the failure on rank " << comm.rank();
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "bad row");
      EXPECT_EQ(e.exit_code(), ExitCode::usage_or_input);
    }
  });
}

/// Sums of doubles (order-sensitive) by key, then a global sort: two operations.
std::vector<std::pair<std::int64_t, double>> two_passes(Communicator& comm, const std::shared_ptr<Checkpoint>& cp,
                                                       std::atomic<int>& mapped) {
  Engine engine(comm, {.memory = {std::size_t{1} << 20}, .threads = 2, .checkpoint = cp});
  RangeSource rows(comm, 200'000, 1000);
  auto sums = engine.reduce_by_key<std::int64_t, double>(
      rows,
      [&](RowRange r, auto& emit) {
        ++mapped;
        for (auto i = r.begin; i < r.end; ++i) emit(static_cast<std::int64_t>(i * 7919 % 5003), 1.0 / double(i + 1));
      },
      std::plus<>{});
  const auto sorted = engine.sort_globally(sums);
  return sorted.gather(comm);
}

TEST(Checkpoint, AResumedRunRestoresItsOperationsAndMatchesBitForBit) {
  const auto dir = std::filesystem::temp_directory_path() / ("pearl-checkpoint-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const CheckpointIdentity identity{{"job", "test"}, {"ranks", "3"}};
  std::vector<std::pair<std::int64_t, double>> first, second;
  std::atomic<int> mapped_first{0}, mapped_second{0};
  run_local(3, [&](Communicator& comm) {
    auto cp = std::make_shared<Checkpoint>(dir, comm.rank(), std::chrono::seconds(0));
    cp->start(identity, "");
    auto got = two_passes(comm, cp, mapped_first);
    if (comm.rank() == 0) first = got;
  });
  const std::string manifest = Checkpoint::read_manifest(dir);
  ASSERT_NE(manifest.find("op 0 reduce_by_key"), std::string::npos) << manifest;
  ASSERT_NE(manifest.find("op 1 sort_globally"), std::string::npos) << manifest;
  run_local(3, [&](Communicator& comm) {
    auto cp = std::make_shared<Checkpoint>(dir, comm.rank(), std::chrono::seconds(0));
    cp->start(identity, manifest);
    auto got = two_passes(comm, cp, mapped_second);
    EXPECT_EQ(cp->restored(), 2U);
    if (comm.rank() == 0) second = got;
  });
  EXPECT_GT(mapped_first.load(), 0);
  EXPECT_EQ(mapped_second.load(), 0) << "restored operations map nothing";
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].first, second[i].first);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(first[i].second), std::bit_cast<std::uint64_t>(second[i].second));
  }
  std::filesystem::remove_all(dir);
}

TEST(Checkpoint, AnotherRunsCheckpointIsRefusedNamingWhatChanged) {
  const auto dir = std::filesystem::temp_directory_path() / "pearl-checkpoint-refused";
  Checkpoint then(dir, 0, std::chrono::seconds(0));
  then.start({{"job", "health.incidence"}, {"ranks", "2"}, {"option --per", "100000"}}, "");
  then.commit({0, "reduce_by_key", 16, 3, 40});
  const std::string manifest = Checkpoint::read_manifest(dir);
  Checkpoint now(dir, 0, std::chrono::seconds(0));
  try {
    now.start({{"job", "health.incidence"}, {"ranks", "3"}, {"option --by", "region"}}, manifest);
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("ranks: '2' then, '3' now"), std::string::npos) << what;
    EXPECT_NE(what.find("option --per: '100000' then, not given now"), std::string::npos) << what;
    EXPECT_NE(what.find("option --by: not given then, 'region' now"), std::string::npos) << what;
  }
  std::filesystem::remove_all(dir);
}

TEST(Checkpoint, EveryParsesOffAndDurations) {
  EXPECT_FALSE(parse_checkpoint_every("off").has_value());
  EXPECT_EQ(*parse_checkpoint_every("0"), std::chrono::seconds(0));
  EXPECT_EQ(*parse_checkpoint_every("90s"), std::chrono::seconds(90));
  EXPECT_EQ(*parse_checkpoint_every("5min"), std::chrono::seconds(300));
  EXPECT_EQ(*parse_checkpoint_every("2h"), std::chrono::seconds(7200));
  for (const char* bad : {"", "-1", "5x", "min", "1e3", "99999999999h"}) {
    EXPECT_THROW((void)parse_checkpoint_every(bad), InputError) << bad;
  }
}

}  // namespace
}  // namespace pearl::cluster
