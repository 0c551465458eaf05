// Unit tests of checkpoints in the middle of a pass, on simulated ranks: a stop requested
// part-way through reduce_by_key or group_by_key saves the pass at the next meeting; the
// resumed run maps exactly the batches the first one had not (none twice) and returns
// results identical, bit for bit, to an uninterrupted run (sums of doubles, whose value
// depends on the fold order; combine tables, uncombined lanes and spilled runs), also with
// a map that keeps state across batches and saves it itself (FoldingMap).
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <bit>
#include <csignal>
#include <filesystem>

#include "pearl/cluster/local_communicator.hpp"
#include "pearl/core/checkpoint.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/stop.hpp"
#include "test_world.hpp"

namespace pearl::cluster {
namespace {

constexpr std::uint64_t kRows = 300'000;
constexpr std::uint64_t kBatchRows = 1000;

struct Scenario {
  int ranks;
  int threads;
  std::int64_t keys;  // distinct keys: few fold in the combine tables, many spill
  bool group;         // group_by_key (values in arrival order) instead of reduce_by_key
  bool folding = false;  // reduce_by_key with FoldingMap
};

using Pairs = std::vector<std::pair<std::int64_t, double>>;

/// A map with state across batches that saves it itself (pearl::SavableMap): every
/// thread's copy sums the values it mapped, in order, and hands the sum on as key -1
/// when it finishes. A restore that lost or mixed up a thread's sum changes it.
struct FoldingMap {
  std::atomic<int>* mapped;
  int stop_after;
  std::int64_t keys;
  double folded = 0;

  template <class Emit>
  void operator()(RowRange r, Emit& emit) {
    if (++*mapped == stop_after) request_stop(SIGTERM);
    for (auto i = r.begin; i < r.end; ++i) {
      folded += 1.0 / double(i + 1);  // rounding depends on the order
      emit(static_cast<std::int64_t>(i * 7919 % static_cast<std::uint64_t>(keys)), 1.0);
    }
  }
  template <class Emit>
  void finish(Emit& emit) {
    emit(std::int64_t{-1}, folded);
  }
  void save_state(pearl::MapStateWriter& w) const { w.put(folded); }
  void restore_state(pearl::MapStateReader& r) { folded = r.get<double>(); }
};

/// Runs the scenario; `stop_after` > 0: requests a stop once that many batches were mapped.
Pairs run(const Scenario& s, const std::shared_ptr<Checkpoint>& cp, std::atomic<int>& mapped, int stop_after,
          Communicator& comm) {
  Engine engine(comm, {.memory = {std::size_t{1} << 20}, .threads = s.threads, .checkpoint = cp});
  RangeSource rows(comm, kRows, kBatchRows);
  const auto map = [&](RowRange r, auto& emit) {
    if (++mapped == stop_after) request_stop(SIGTERM);
    for (auto i = r.begin; i < r.end; ++i) {
      emit(static_cast<std::int64_t>(i * 7919 % static_cast<std::uint64_t>(s.keys)), 1.0 / double(i + 1));
    }
  };
  Pairs out;
  if (s.folding) {
    FoldingMap folding{&mapped, stop_after, s.keys};
    return engine.reduce_by_key<std::int64_t, double>(rows, folding, std::plus<>{}).gather(comm);
  }
  if (s.group) {
    const auto groups = engine.group_by_key<std::int64_t, double>(rows, map);
    groups.for_each_group([&](std::int64_t k, std::span<const double> values) {
      double folded = 0;
      for (double v : values) folded = folded * 0.5 + v;  // depends on the values' order
      out.emplace_back(k, folded);
    });
    return pearl::detail::gather_sorted(comm, out);
  }
  return engine.reduce_by_key<std::int64_t, double>(rows, map, std::plus<>{}).gather(comm);
}

class MidPass : public ::testing::TestWithParam<Scenario> {};

TEST_P(MidPass, AStopMidPassResumesWithoutMappingABatchTwiceAndMatchesBitForBit) {
  const Scenario s = GetParam();
  const auto dir = std::filesystem::temp_directory_path() / ("pearl-midpass-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const CheckpointIdentity identity{{"job", "test"}, {"ranks", std::to_string(s.ranks)}};
  Pairs want, got;
  std::atomic<int> mapped_whole{0}, mapped_first{0}, mapped_second{0};
  clear_stop();
  run_local(s.ranks, [&](Communicator& comm) {
    auto r = run(s, nullptr, mapped_whole, 0, comm);
    if (comm.rank() == 0) want = r;
  });
  const int total = mapped_whole.load();
  ASSERT_GT(total, 100);
  {
    const StopPoints open;
    run_local(s.ranks, [&](Communicator& comm) {
      // Periodic saves off (a year): only the stop saves.
      auto cp = std::make_shared<Checkpoint>(dir, comm.rank(), std::chrono::hours(24 * 365));
      cp->start(identity, "");
      EXPECT_THROW(run(s, cp, mapped_first, total / 2, comm), StopRequested);
    });
  }
  clear_stop();
  const std::string manifest = Checkpoint::read_manifest(dir);
  ASSERT_NE(manifest.find(s.group ? "pass 0 0 group_by_key" : "pass 0 0 reduce_by_key"), std::string::npos) << manifest;
  run_local(s.ranks, [&](Communicator& comm) {
    auto cp = std::make_shared<Checkpoint>(dir, comm.rank(), std::chrono::hours(24 * 365));
    cp->start(identity, manifest);
    auto r = run(s, cp, mapped_second, 0, comm);
    if (comm.rank() == 0) got = r;
  });
  EXPECT_GE(mapped_first.load(), total / 2);
  EXPECT_LT(mapped_first.load(), total);
  EXPECT_EQ(mapped_first.load() + mapped_second.load(), total) << "every batch mapped exactly once over both runs";
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want[i].first, got[i].first);
    ASSERT_EQ(std::bit_cast<std::uint64_t>(want[i].second), std::bit_cast<std::uint64_t>(got[i].second)) << "key " << want[i].first;
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, MidPass,
                         ::testing::Values(Scenario{1, 1, 5003, false}, Scenario{2, 2, 5003, false},
                                           Scenario{3, 2, 5003, false}, Scenario{3, 2, 250'000, false},
                                           Scenario{2, 1, 250'000, true}, Scenario{3, 2, 5003, true},
                                           Scenario{1, 2, 5003, false, true}, Scenario{3, 2, 250'000, false, true}));

}  // namespace
}  // namespace pearl::cluster
