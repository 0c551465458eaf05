// Engine tests: reduce_by_key and group_by_key against a plain std::map reference, on
// 1–4 simulated ranks in-process and on the MPI world under mpirun, with 1 and 2 threads.
// A body checks results, then agrees on failure (PEARL_AGREE_ON_FAILURE) before its next
// collective, so that one rank's failed assertion fails the run instead of hanging it.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <map>
#include <tuple>

#include "pearl/core/collectives.hpp"
#include "pearl/core/eigen_collectives.hpp"
#include "pearl/core/engine.hpp"
#include "test_world.hpp"

namespace pearl {
namespace {

using pearl::testing::on_every_layout;

EngineOptions options(int threads, std::size_t memory = std::size_t{64} << 20,
                      const std::filesystem::path& scratch = {}) {
  EngineOptions o;
  o.memory.total = memory;
  o.threads = threads;
  o.scratch = scratch;
  return o;
}

// Deterministic pseudo-random key of row i among `keys` keys.
std::int64_t key_of(std::uint64_t i, std::uint64_t keys) { return static_cast<std::int64_t>(mix64(i) % keys); }
std::int64_t value_of(std::uint64_t i) { return static_cast<std::int64_t>(mix64(i ^ 0xabcdefULL) % 1000); }

template <class KeyFn>
std::vector<std::pair<std::int64_t, std::int64_t>> reference_sums(std::uint64_t rows, KeyFn key) {
  std::map<std::int64_t, std::int64_t> m;
  for (std::uint64_t i = 0; i < rows; ++i) m[key(i)] += value_of(i);
  return {m.begin(), m.end()};
}

// Collective: sums of value_of(i) by key(i) over this rank's share of rows [0, rows).
template <class KeyFn>
KeyedResult<std::int64_t, std::int64_t> sum_rows(Engine& engine, Communicator& comm, std::uint64_t rows, KeyFn key) {
  RangeSource src(comm, rows, 4096);
  return engine.reduce_by_key<std::int64_t, std::int64_t>(
      src, [&](RowRange r, auto& emit) { for (auto i = r.begin; i < r.end; ++i) emit(key(i), value_of(i)); },
      std::plus<>{});
}

template <class KeyFn>
void expect_sums(std::uint64_t rows, KeyFn key, std::size_t memory = std::size_t{64} << 20) {
  const auto expected = reference_sums(rows, key);
  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads: " + std::to_string(threads));
    on_every_layout([&](Communicator& comm) {
      Engine engine(comm, options(threads, memory));
      const auto result = sum_rows(engine, comm, rows, key);
      const auto all = result.gather(comm);
      EXPECT_EQ(all, expected) << "rank " << comm.rank() << " of " << comm.size();
    });
  }
}

TEST(Engine, EmptyInput) {
  expect_sums(0, [](std::uint64_t) { return std::int64_t{0}; });
}

TEST(Engine, OneKey) {
  expect_sums(50'000, [](std::uint64_t) { return std::int64_t{7}; });
}

TEST(Engine, FewKeys) {
  expect_sums(100'000, [](std::uint64_t i) { return key_of(i, 1000); });
}

TEST(Engine, AllDistinctKeys) {
  expect_sums(100'000, [](std::uint64_t i) { return static_cast<std::int64_t>(mix64(i)); });
}

TEST(Engine, SkewedKeysOneKeyHas90Percent) {
  expect_sums(100'000, [](std::uint64_t i) { return mix64(i) % 10 != 0 ? std::int64_t{42} : key_of(i, 50'000); });
}

TEST(Engine, TupleAndStringKeysWithStructValues) {
  using Key = std::tuple<std::uint32_t, FixedString<8>>;
  struct Agg {
    std::int64_t n;
    double max;
  };
  const char* diseases[] = {"A90", "B08.4", "J11"};
  const std::uint64_t rows = 30'000;
  std::map<Key, std::pair<std::int64_t, double>> ref;
  const auto key = [&](std::uint64_t i) { return Key{static_cast<std::uint32_t>(440100 + 100 * (i % 21)), FixedString<8>(diseases[i % 3])}; };
  const auto val = [](std::uint64_t i) { return static_cast<double>(mix64(i) % 10'000) / 8.0; };
  for (std::uint64_t i = 0; i < rows; ++i) {
    auto& [n, mx] = ref[key(i)];
    mx = n == 0 ? val(i) : std::max(mx, val(i));
    ++n;
  }
  on_every_layout([&](Communicator& comm) {
    Engine engine(comm, options(2));
    RangeSource src(comm, rows, 1000);
    const auto all = engine
                         .reduce_by_key<Key, Agg>(
                             src,
                             [&](RowRange r, auto& emit) {
                               for (auto i = r.begin; i < r.end; ++i) emit(key(i), Agg{1, val(i)});
                             },
                             [](const Agg& a, const Agg& b) { return Agg{a.n + b.n, std::max(a.max, b.max)}; })
                         .gather(comm);
    ASSERT_EQ(all.size(), ref.size());
    auto it = ref.begin();
    for (const auto& [k, v] : all) {
      EXPECT_EQ(k, it->first);
      EXPECT_EQ(v.n, it->second.first);
      EXPECT_EQ(v.max, it->second.second);
      ++it;
    }
  });
}

// A map that keeps partial sums across batches and hands them on in finish(emit): one
// copy per thread, finish called exactly once on each, results as if emitted per row.
struct CombiningMap {
  std::map<std::int64_t, std::int64_t> partial;  // this copy's sums since the start
  std::shared_ptr<std::atomic<int>> finishes = std::make_shared<std::atomic<int>>(0);
  std::uint64_t keys = 1000;

  template <class Emit>
  void operator()(RowRange r, Emit& emit) {
    for (auto i = r.begin; i < r.end; ++i) {
      if (i % 7 == 0) emit(key_of(i, keys), value_of(i));  // some rows straight through
      else partial[key_of(i, keys)] += value_of(i);
    }
  }
  template <class Emit>
  void finish(Emit& emit) {
    for (const auto& [k, v] : partial) emit(k, v);
    partial.clear();
    ++*finishes;
  }
};

TEST(Engine, MapsWithAFinishStepGetACopyPerThreadAndAreFinishedOnce) {
  const std::uint64_t rows = 60'000;
  const auto expected = reference_sums(rows, [](std::uint64_t i) { return key_of(i, 1000); });
  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads: " + std::to_string(threads));
    on_every_layout([&](Communicator& comm) {
      Engine engine(comm, options(threads));
      RangeSource src(comm, rows, 4096);
      CombiningMap map;
      const auto result = engine.reduce_by_key<std::int64_t, std::int64_t>(src, map, std::plus<>{});
      EXPECT_EQ(result.gather(comm), expected) << "rank " << comm.rank() << " of " << comm.size();
      EXPECT_EQ(*map.finishes, threads) << "every thread's copy is finished once";
      EXPECT_TRUE(map.partial.empty()) << "the caller's object is copied, not used";
    });
  }
}

// A RangeSource that wants its batches back (as table readers do), and counts them.
struct RecyclingRanges {
  using Batch = RowRange;
  RangeSource source;
  std::uint64_t handed_out = 0, returned = 0, rows_returned = 0;
  std::optional<Batch> next() {
    auto b = source.next();
    handed_out += b ? 1 : 0;
    return b;
  }
  void recycle(RowRange&& b) {
    ++returned;
    rows_returned += b.size();
  }
};
static_assert(RecyclingSource<RecyclingRanges>);
static_assert(!RecyclingSource<RangeSource>);

TEST(Engine, RecyclingSourcesGetEveryBatchBackOnceMapped) {
  const std::uint64_t rows = 50'000;
  const auto expected = reference_sums(rows, [](std::uint64_t i) { return key_of(i, 300); });
  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads: " + std::to_string(threads));
    on_every_layout([&](Communicator& comm) {
      Engine engine(comm, options(threads));
      RecyclingRanges src{RangeSource(comm, rows, 1000)};
      const auto result = engine.reduce_by_key<std::int64_t, std::int64_t>(
          src,
          [&](RowRange r, auto& emit) {
            for (auto i = r.begin; i < r.end; ++i) emit(key_of(i, 300), value_of(i));
          },
          std::plus<>{});
      EXPECT_EQ(result.gather(comm), expected) << "rank " << comm.rank() << " of " << comm.size();
      EXPECT_GT(src.handed_out, 0U);
      EXPECT_EQ(src.returned, src.handed_out);
      EXPECT_EQ(src.rows_returned, src.source.share().size());
    });
  }
}

// Values of every key, sorted, through group_by_key; compared as (key, count, sum of
// value × position) so the test also checks the value order.
TEST(Engine, GroupByKeyDeliversSortedValues) {
  const std::uint64_t rows = 60'000;
  std::map<std::int64_t, std::vector<std::int64_t>> ref;
  for (std::uint64_t i = 0; i < rows; ++i) ref[key_of(i, 3000)].push_back(value_of(i));
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> expected;
  for (auto& [k, vs] : ref) {
    std::sort(vs.begin(), vs.end());
    std::int64_t weighted = 0;
    for (std::size_t j = 0; j < vs.size(); ++j) weighted += vs[j] * static_cast<std::int64_t>(j + 1);
    expected.emplace_back(k, static_cast<std::int64_t>(vs.size()), weighted);
  }
  for (int threads : {1, 2}) {
    on_every_layout([&](Communicator& comm) {
      Engine engine(comm, options(threads));
      RangeSource src(comm, rows, 2048);
      const auto groups = engine.group_by_key<std::int64_t, std::int64_t>(
          src, [&](RowRange r, auto& emit) { for (auto i = r.begin; i < r.end; ++i) emit(key_of(i, 3000), value_of(i)); },
          GroupOptions{.sort_values = true});
      std::vector<std::pair<std::int64_t, std::pair<std::int64_t, std::int64_t>>> mine;
      groups.for_each_group([&](std::int64_t k, std::span<const std::int64_t> vs) {
        std::int64_t weighted = 0;
        for (std::size_t j = 0; j < vs.size(); ++j) weighted += vs[j] * static_cast<std::int64_t>(j + 1);
        mine.push_back({k, {static_cast<std::int64_t>(vs.size()), weighted}});
      });
      const auto all = detail::gather_sorted(comm, mine);
      ASSERT_EQ(all.size(), expected.size());
      for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].first, std::get<0>(expected[i]));
        EXPECT_EQ(all[i].second.first, std::get<1>(expected[i]));
        EXPECT_EQ(all[i].second.second, std::get<2>(expected[i]));
      }
    });
  }
}

// A fresh directory per test to hold the engine's scratch; checked empty afterwards.
struct ScratchParent {
  ScratchParent() : path(std::filesystem::temp_directory_path() / ("pearl-test-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~ScratchParent() { std::filesystem::remove_all(path); }
  [[nodiscard]] bool empty() const { return std::filesystem::is_empty(path); }
  std::filesystem::path path;
};

TEST(Engine, SpillsPastTheBudgetAndCleansScratch) {
  // 400k distinct pairs of 16 bytes = 6.4 MB shuffled; budget 1 MiB per rank (>= 5x).
  const std::uint64_t rows = 400'000;
  const auto key = [](std::uint64_t i) { return static_cast<std::int64_t>(mix64(i) % 300'000); };
  const auto expected = reference_sums(rows, key);
  ScratchParent scratch;
  for (int threads : {1, 2}) {
    on_every_layout([&](Communicator& comm) {
      Engine engine(comm, options(threads, std::size_t{1} << 20, scratch.path));
      std::vector<std::pair<std::int64_t, std::int64_t>> all;
      {
        const auto result = sum_rows(engine, comm, rows, key);
        const std::int64_t spilled = allreduce_sum(comm, static_cast<std::int64_t>(result.spilled_runs()));
        EXPECT_GT(spilled, 0) << "the budget should have forced a spill";
        if (comm.size() > 1) {
          EXPECT_GT(engine.last_stats().rounds, 1U) << "the shuffle should have taken several rounds";
        }
        PEARL_AGREE_ON_FAILURE(comm);
        all = result.gather(comm);
      }
      EXPECT_EQ(all, expected);
    });
    EXPECT_TRUE(scratch.empty()) << "scratch left behind in " << scratch.path;
  }
}

TEST(Engine, KeysThatHardlyRepeatSkipTheCombineTables) {
  // All-distinct keys: a combine table that reached its full size folded nothing, so the
  // pairs for other ranks then go to the outbox as they come; 1,000 keys keep combining.
  // Budget 4 MiB: combine tables of ~2,000-4,000 entries, and owned tables that spill.
  const std::uint64_t rows = 200'000;
  ScratchParent scratch;
  for (const bool distinct : {true, false}) {
    const auto key = [distinct](std::uint64_t i) {
      return distinct ? static_cast<std::int64_t>(mix64(i)) : key_of(i, 1000);
    };
    const auto expected = reference_sums(rows, key);
    for (int threads : {1, 2}) {
      SCOPED_TRACE(std::string(distinct ? "distinct keys" : "1,000 keys") + ", threads: " + std::to_string(threads));
      on_every_layout([&](Communicator& comm) {
        Engine engine(comm, options(threads, std::size_t{4} << 20, scratch.path));
        std::vector<std::pair<std::int64_t, std::int64_t>> all;
        {
          const auto result = sum_rows(engine, comm, rows, key);
          const std::int64_t uncombined =
              allreduce_sum(comm, static_cast<std::int64_t>(engine.last_stats().uncombined_pairs));
          const auto p = static_cast<std::int64_t>(comm.size());
          const auto for_others = static_cast<std::int64_t>(rows) * (p - 1) / p;
          if (distinct && p > 1) {
            EXPECT_GT(uncombined, for_others * 3 / 4) << "most pairs for other ranks should skip combining";
          } else {
            EXPECT_EQ(uncombined, 0) << "keys that repeat (or a single rank) keep combining";
          }
          PEARL_AGREE_ON_FAILURE(comm);
          all = result.gather(comm);
        }
        EXPECT_EQ(all, expected) << "rank " << comm.rank() << " of " << comm.size();
      });
      EXPECT_TRUE(scratch.empty()) << "scratch left behind in " << scratch.path;
    }
  }
}

TEST(Engine, GroupByKeySpillsAndCleansScratch) {
  const std::uint64_t rows = 300'000;  // 4.8 MB of pairs against a 1 MiB budget
  ScratchParent scratch;
  std::map<std::int64_t, std::int64_t> ref_min;
  for (std::uint64_t i = 0; i < rows; ++i) {
    const auto k = key_of(i, 20'000);
    const auto it = ref_min.find(k);
    if (it == ref_min.end() || value_of(i) < it->second) ref_min[k] = value_of(i);
  }
  const std::vector<std::pair<std::int64_t, std::int64_t>> expected(ref_min.begin(), ref_min.end());
  on_every_layout([&](Communicator& comm) {
    Engine engine(comm, options(1, std::size_t{1} << 20, scratch.path));
    RangeSource src(comm, rows, 4096);
    std::vector<std::pair<std::int64_t, std::int64_t>> mins;
    {
      const auto groups = engine.group_by_key<std::int64_t, std::int64_t>(
          src, [&](RowRange r, auto& emit) { for (auto i = r.begin; i < r.end; ++i) emit(key_of(i, 20'000), value_of(i)); },
          GroupOptions{.sort_values = true});
      EXPECT_GT(allreduce_sum(comm, static_cast<std::int64_t>(groups.spilled_runs())), 0);
      groups.for_each_group([&](std::int64_t k, std::span<const std::int64_t> vs) {
        EXPECT_TRUE(std::is_sorted(vs.begin(), vs.end()));
        mins.emplace_back(k, vs.front());
      });
    }
    PEARL_AGREE_ON_FAILURE(comm);
    EXPECT_EQ(detail::gather_sorted(comm, mins), expected);
  });
  EXPECT_TRUE(scratch.empty());
}

TEST(Engine, ARankThatThrowsStopsEveryRankWithItsMessage) {
  ScratchParent scratch;
  on_every_layout([&](Communicator& comm) {
    const int bad = comm.size() - 1;
    Engine engine(comm, options(2, std::size_t{1} << 20, scratch.path));
    RangeSource src(comm, 200'000, 1024);
    try {
      (void)engine.reduce_by_key<std::int64_t, std::int64_t>(
          src,
          [&](RowRange r, auto& emit) {
            if (comm.rank() == bad && r.begin > 50'000) throw InputError("shard 7: bad row");
            for (auto i = r.begin; i < r.end; ++i) emit(static_cast<std::int64_t>(mix64(i)), 1);
          },
          std::plus<>{});
      ADD_FAILURE() << "rank " << comm.rank() << " did not see the failure";
    } catch (const RemoteError& e) {
      EXPECT_NE(comm.rank(), bad);
      EXPECT_EQ(e.failed_rank(), bad);
      EXPECT_EQ(std::string(e.what()), "shard 7: bad row");
      EXPECT_EQ(e.exit_code(), ExitCode::usage_or_input);
    } catch (const InputError& e) {
      EXPECT_EQ(comm.rank(), bad);
    }
  });
  EXPECT_TRUE(scratch.empty());
}

// After sort_globally, the ranks' parts concatenated in rank order are the sorted result.
TEST(Engine, SortGloballyGivesEachRankAContiguousKeyRange) {
  for (const std::uint64_t keys : {std::uint64_t{1}, std::uint64_t{5}, std::uint64_t{20'000}}) {
    const std::uint64_t rows = 60'000;
    const auto key = [keys](std::uint64_t i) { return key_of(i, keys); };
    const auto expected = reference_sums(rows, key);
    for (const std::size_t memory : {std::size_t{64} << 20, std::size_t{1} << 20}) {  // in memory and spilling
      // A result handed over (moved) is returned as it is at 1 rank; one kept is copied.
      for (const bool handed_over : {false, true}) on_every_layout([&](Communicator& comm) {
        Engine engine(comm, options(1, memory));
        RangeSource src(comm, rows, 4096);
        auto by_hash = engine.reduce_by_key<std::int64_t, std::int64_t>(
            src, [&](RowRange r, auto& emit) { for (auto i = r.begin; i < r.end; ++i) emit(key(i), value_of(i)); },
            std::plus<>{});
        const auto by_range =
            handed_over ? engine.sort_globally(std::move(by_hash)) : engine.sort_globally(std::as_const(by_hash));
        const auto mine = by_range.local();
        // Concatenate in rank order: allgather the parts and append rank by rank.
        std::vector<std::byte> bytes(mine.size() * 16);
        for (std::size_t i = 0; i < mine.size(); ++i) detail::write_pair(bytes.data() + 16 * i, mine[i].first, mine[i].second);
        std::vector<std::vector<std::byte>> parts;
        comm.allgather(bytes, parts);
        std::vector<std::pair<std::int64_t, std::int64_t>> concatenated;
        for (const auto& part : parts) {
          for (std::size_t off = 0; off < part.size(); off += 16) {
            concatenated.push_back(detail::read_pair<std::int64_t, std::int64_t>(part.data() + off));
          }
        }
        EXPECT_EQ(concatenated, expected) << "keys " << keys << ", memory " << memory << ", handed over " << handed_over;
      });
    }
  }
}

TEST(Collectives, SumsMatricesAndBroadcastsTables) {
  on_every_layout([](Communicator& comm) {
    Eigen::MatrixXd m = Eigen::MatrixXd::Constant(2, 3, comm.rank() + 1.0);
    allreduce_sum(comm, m);
    const double n = comm.size();
    EXPECT_EQ(m(1, 2), n * (n + 1) / 2);
    std::vector<std::pair<std::uint32_t, double>> table;
    if (comm.rank() == 0) table = {{440100, 1.5}, {440300, 2.5}};
    PEARL_AGREE_ON_FAILURE(comm);
    const auto got = broadcast_table(comm, table, 0);
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[1].first, 440300U);
    PEARL_AGREE_ON_FAILURE(comm);  // a rank whose ASSERT returned is not in the allreduce
    EXPECT_EQ(allreduce_max(comm, comm.rank()), comm.size() - 1);
  });
}

}  // namespace
}  // namespace pearl
