// pearl/core/engine.hpp — the typed MapReduce engine a job runs on.
//
// An Engine lives on every rank and drives the data path
//     batches ─map (threads)→ (key, value) ─combine→ partition ─shuffle (bounded rounds)→
//     reduce / group (spilling past the memory budget) → result sorted by key.
// Job code sees keys, values and batches; never ranks, MPI or files.
//
//   pearl::Engine engine(comm, {.memory = {pearl::parse_bytes("2GiB")}, .threads = 2});
//   pearl::RangeSource rows(comm, n);
//   auto totals = engine.reduce_by_key<std::int64_t, double>(
//       rows,
//       [&](pearl::RowRange r, auto& emit) {
//         for (auto i = r.begin; i < r.end; ++i) emit(key_of(i), value_of(i));
//       },
//       std::plus<>{});
//   for (auto& [k, v] : totals.gather(comm)) std::cout << k << ' ' << v << '\n';
//
// Determinism: results are sorted by key, and for an associative, commutative `op` over
// exact arithmetic (integers, min, max, counts) identical at any rank or thread count.
// Floating-point sums are equal up to rounding (the summation order follows partitioning).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/checkpoint.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/detail/checkpoint_ops.hpp"
#include "pearl/core/detail/group_sink.hpp"
#include "pearl/core/detail/reduce_sink.hpp"
#include "pearl/core/map_state.hpp"
#include "pearl/core/memory.hpp"
#include "pearl/core/memory_accountant.hpp"
#include "pearl/core/results.hpp"
#include "pearl/core/source.hpp"

namespace pearl {

struct EngineOptions {
  MemoryBudget memory{};
  std::shared_ptr<MemoryAccountant> accountant{};  // the rank's budget (runner); empty: made from `memory`
  int threads = 1;                   // map threads per rank
  std::filesystem::path scratch{};   // parent of the spill directory; empty: $TMPDIR or /tmp
  bool verbose = false;              // progress lines on rank 0
  std::shared_ptr<Checkpoint> checkpoint{};  // save / restore operation results (checkpoint.hpp)
};

/// Counters of one operation on this rank, for progress, tests and run metrics.
struct EngineStats {
  std::uint64_t batches = 0;
  std::uint64_t exchanges = 0;
  std::uint64_t rounds = 0;
  std::uint64_t bytes_sent = 0;        // to other ranks; over all ranks equal to bytes_received
  std::uint64_t bytes_received = 0;
  std::uint64_t pairs_emitted = 0;     // emit() calls of the map
  std::uint64_t pairs_sent = 0;        // pairs sent after combining (bytes_sent / pair size)
  std::uint64_t spilled_runs = 0;
  std::uint64_t spilled_bytes = 0;
  std::uint64_t largest_outbox = 0;    // bytes staged for the shuffle at once (staging share)
  std::uint64_t largest_round = 0;     // bytes received in one round (round share)
  std::uint64_t uncombined_pairs = 0;  // reduce_by_key: sent without pre-aggregation (keys that hardly repeat)
};

/// One finished operation of an engine, in the order they ran (Engine::history).
struct OperationRecord {
  std::string kind;        // "reduce_by_key", "group_by_key", "sort_globally"
  double started = 0;      // seconds since the engine was made
  double seconds = 0;      // wall time
  double cpu_seconds = 0;  // CPU time of the process (all threads) meanwhile
  EngineStats stats;
};

/// A map function object with a `finish(emit)` member: see Engine::reduce_by_key.
template <class Map, class Emit>
concept FinishingMap = requires(std::decay_t<Map>& map, Emit& emit) { map.finish(emit); };

struct GroupOptions {
  /// Deliver each key's values in ascending order (operator<). A value type may also
  /// offer `std::uint64_t sort_prefix() const noexcept`, an integer whose order agrees with
  /// operator< (a < b implies a.sort_prefix() <= b.sort_prefix()), e.g. a time stamp:
  /// large groups are then radix-sorted on it before any two values are compared.
  bool sort_values = false;
};

class Engine {
 public:
  Engine(Communicator& comm, EngineOptions options);

  [[nodiscard]] Communicator& comm() const noexcept { return comm_; }
  [[nodiscard]] int rank() const noexcept { return comm_.rank(); }
  [[nodiscard]] int ranks() const noexcept { return comm_.size(); }
  [[nodiscard]] const EngineOptions& options() const noexcept { return options_; }
  /// The rank's memory accountant: every pass leases its tables and shuffle shares here,
  /// and a job leases what it keeps itself (pearl/core/memory_accountant.hpp).
  [[nodiscard]] MemoryAccountant& memory() const noexcept { return *options_.accountant; }
  [[nodiscard]] const EngineStats& last_stats() const noexcept { return stats_; }
  /// Every operation finished so far, with its counters and times (run metrics).
  [[nodiscard]] const std::vector<OperationRecord>& history() const noexcept { return history_; }

  /// Collective. Maps every batch of `source` with `map(batch, emit)`, where emit(key,
  /// value) may be called any number of times, and folds the values of each key with
  /// `op(V, V) -> V`, which must be associative and commutative.
  ///
  /// A map may keep state across batches (in-mapper combining: partial aggregates it
  /// hands on later, as Hadoop's Mapper::cleanup does) by being an object with a member
  /// `finish(emit)`: every map thread then gets its own copy of it, and `finish` is
  /// called once on each copy after the rank's last batch, before the final shuffle.
  template <KeyRecord K, Record V, BatchSource Source, class MapFn, class Op>
  KeyedResult<K, V> reduce_by_key(Source& source, MapFn&& map, Op op) {
    using Sink = detail::ReduceSink<K, V, Op>;
    const bool restorable = detail::restorable_map<Sink>(map);  // see checkpoint_ops.hpp
    const std::size_t index = next_operation_++;
    if (auto saved = restore<K, V>(index, "reduce_by_key", restorable)) return KeyedResult<K, V>(std::move(*saved), op);
    begin_pass();
    detail::Spiller<K, V> spiller(scratch_factory());
    const std::size_t table_limit = pass_.tables.bytes() / static_cast<std::size_t>(threads());
    std::vector<Sink> sinks;
    sinks.reserve(static_cast<std::size_t>(threads()));
    for (int t = 0; t < threads(); ++t) sinks.emplace_back(rank(), ranks(), table_limit, combine_entries<K, V>(), max_combine_entries<K, V>(), op,
                         spiller);
    drive(source, map, sinks, spiller, index, "reduce_by_key");
    for (const auto& s : sinks) stats_.uncombined_pairs += s.uncombined_pairs();
    auto runs = finish(sinks, spiller, detail::pair_size<K, V>, "reduce_by_key");
    save(index, "reduce_by_key", restorable, runs);
    return KeyedResult<K, V>(std::move(runs), op);
  }

  /// Collective. Maps like reduce_by_key, then delivers all values of each key together
  /// on the rank that owns the key (see GroupedResult::for_each_group).
  template <KeyRecord K, Record V, BatchSource Source, class MapFn>
  GroupedResult<K, V> group_by_key(Source& source, MapFn&& map, GroupOptions group = {}) {
    return group_by<K, V>(source, map, group, detail::HashPartitioner{});
  }

  /// Collective. The same, with owners by key range instead of hash: rank r owns the keys
  /// in [splitters[r-1], splitters[r]) (agree_splitters), so every key on rank r precedes
  /// every key on rank r+1, and rows made group by group, in order, concatenate in rank
  /// order into a globally sorted table without a sort_globally afterwards.
  template <KeyRecord K, Record V, BatchSource Source, class MapFn>
  GroupedResult<K, V> group_by_key_in_ranges(Source& source, MapFn&& map, const std::vector<K>& splitters,
                                             GroupOptions group = {}) {
    if (splitters.size() >= static_cast<std::size_t>(ranks()) || !std::is_sorted(splitters.begin(), splitters.end())) {
      throw Error("group_by_key_in_ranges: needs at most ranks - 1 splitters, ascending (agree_splitters)");
    }
    return group_by<K, V>(source, map, group, detail::RangePartitioner<K>{&splitters});
  }

  /// Collective. ranks - 1 splitters from the keys every rank samples (any number, drawn
  /// in proportion to its pairs, so that the ranges get about equal shares of pairs):
  /// the keys at regular positions of all samples, sorted. The same on every rank.
  template <KeyRecord K>
  std::vector<K> agree_splitters(const std::vector<K>& sample) {
    std::vector<std::pair<K, char>> keyed;
    keyed.reserve(sample.size());
    for (const K& k : sample) keyed.emplace_back(k, 0);
    std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    const auto all = detail::gather_sorted(comm_, keyed);  // merges the ranks' sorted samples
    std::vector<K> splitters;
    for (int r = 1; r < ranks() && !all.empty(); ++r) {
      splitters.push_back(all[static_cast<std::size_t>(r) * all.size() / static_cast<std::size_t>(ranks())].first);
    }
    return splitters;
  }

  /// Collective. The same pairs, redistributed so that each rank holds a contiguous key
  /// range: every key on rank r precedes every key on rank r+1. Writing the ranks' parts
  /// in rank order then gives a globally sorted table without funnelling it through one
  /// rank. Splitters come from a regular sample of every rank's sorted keys.
  template <KeyRecord K, Record V>
  KeyedResult<K, V> sort_globally(const KeyedResult<K, V>& local) {
    const auto keep_first = [](const V& a, const V&) { return a; };  // keys are unique: never called
    const std::size_t index = next_operation_++;
    if (auto saved = restore<K, V>(index, "sort_globally", true)) return KeyedResult<K, V>(std::move(*saved), keep_first);
    const std::vector<K> splitters = choose_splitters(local);
    begin_pass();
    detail::RangePartitioner<K> by_range{&splitters};
    using Sink = detail::GroupSink<K, V, detail::RangePartitioner<K>>;
    detail::Spiller<K, V> spiller(scratch_factory());
    std::vector<Sink> sinks;
    sinks.emplace_back(rank(), ranks(), pass_.tables.bytes(), false, spiller, by_range);
    ResultBatches<K, V> source(local, batch_pairs<K, V>());
    auto forward = forward_pairs;
    drive(source, forward, sinks, spiller, index, "sort_globally");
    auto runs = finish(sinks, spiller, detail::pair_size<K, V>, "sort_globally");
    save(index, "sort_globally", true, runs);
    return KeyedResult<K, V>(std::move(runs), keep_first);
  }

  /// The same for a result the caller hands over (a temporary, or std::move): at 1 rank
  /// it is returned as it is, since a rank's result is sorted already (bench/io: the
  /// pass through the engine was 13 ms of a 0.22 s run on 100,000 keys).
  template <KeyRecord K, Record V>
  KeyedResult<K, V> sort_globally(KeyedResult<K, V>&& local) {
    if (ranks() == 1) return std::move(local);
    return sort_globally(std::as_const(local));
  }

  /// Writes a progress line on rank 0 when verbose, stamped with the seconds since the
  /// engine was made.
  void progress(const std::string& line) const;
  /// Writes a line on rank 0 whether verbose or not (resuming from a checkpoint).
  void notice(const std::string& line) const;
  /// From now on, operations save into and restore from `checkpoint` (the runner, once
  /// it knows the run's inputs).
  void attach_checkpoint(std::shared_ptr<Checkpoint> checkpoint) { options_.checkpoint = std::move(checkpoint); }

 private:
  [[nodiscard]] int threads() const noexcept { return options_.threads; }

  template <class K, class V>
  std::size_t batch_pairs() const {
    return std::max<std::size_t>(1024, pass_.staging.bytes() / 4 / sizeof(std::pair<K, V>));
  }

  /// ranks-1 splitters from a regular sample (up to 64 keys per rank) of all keys.
  template <class K, class V>
  std::vector<K> choose_splitters(const KeyedResult<K, V>& local) {
    constexpr std::size_t per_rank = 64;
    const std::size_t n = local.local_size();
    std::vector<K> sample;
    std::size_t i = 0;
    local.for_each([&](const K& k, const V&) {
      // take the keys at positions j * n / per_rank (a regular sample)
      while (sample.size() < per_rank && sample.size() * n / per_rank == i) sample.push_back(k);
      ++i;
    });
    return agree_splitters(sample);
  }
  /// group_by_key's pass, owners chosen by `partitioner`.
  template <class K, class V, class Source, class MapFn, class Partitioner>
  GroupedResult<K, V> group_by(Source& source, MapFn& map, GroupOptions group, Partitioner partitioner) {
    if constexpr (!std::totally_ordered<V>) {
      if (group.sort_values) throw Error("group_by_key: sort_values needs a value type with operator<");
    }
    using Sink = detail::GroupSink<K, V, Partitioner>;
    const bool restorable = detail::restorable_map<Sink>(map);
    const std::size_t index = next_operation_++;
    if (auto saved = restore<K, V>(index, "group_by_key", restorable)) {
      return GroupedResult<K, V>(std::move(*saved), group.sort_values);
    }
    begin_pass();
    detail::Spiller<K, V> spiller(scratch_factory());
    const std::size_t buffer_limit = pass_.tables.bytes() / static_cast<std::size_t>(threads());
    std::vector<Sink> sinks;
    sinks.reserve(static_cast<std::size_t>(threads()));
    for (int t = 0; t < threads(); ++t) sinks.emplace_back(rank(), ranks(), buffer_limit, group.sort_values, spiller, partitioner);
    drive(source, map, sinks, spiller, index, "group_by_key");
    auto runs = finish(sinks, spiller, detail::pair_size<K, V>, "group_by_key");
    save(index, "group_by_key", restorable, runs);
    return GroupedResult<K, V>(std::move(runs), group.sort_values);
  }
  std::function<std::shared_ptr<ScratchDir>()> scratch_factory() const;
  /// Collective, as an operation's pass starts: leases its shuffle rounds and staging
  /// (whole: every rank computes the same exchanges from them) and its tables (what is
  /// free up to their share: a smaller share spills sooner) into pass_ (engine.cpp).
  void begin_pass();
  /// Gives the pass's leases back and accounts for the result's run in memory instead,
  /// for as long as the result lives (docs/architecture.md, "Memory budget").
  template <class K, class V>
  void hold_result(detail::SortedRuns<K, V>& runs) {
    pass_ = {};
    runs.held = std::make_shared<MemoryLease>(
        memory().hold("engine results", runs.memory.size() * sizeof(std::pair<K, V>)));
  }
  /// CPU time of the whole process (every thread), in seconds.
  static double process_cpu_seconds() noexcept;
  /// Appends the operation that just finished (stats_ and the times since drive began).
  void record_operation(const char* kind);
  void log_restored(std::size_t index) const;

  /// Operation `index`'s result from the checkpoint resumed from, if it holds it.
  template <class K, class V>
  std::optional<detail::SortedRuns<K, V>> restore(std::size_t index, const char* kind, bool restorable) {
    auto runs = detail::restore_operation<K, V>(comm_, options_.checkpoint.get(), index, kind, restorable,
                                                  scratch_factory(), memory().share(MemoryShare::engine_tables));
    if (runs) {
      hold_result(*runs);
      log_restored(index);
    }
    return runs;
  }
  template <class K, class V>
  void save(std::size_t index, const char* kind, bool restorable, const detail::SortedRuns<K, V>& runs) {
    detail::save_operation(comm_, options_.checkpoint.get(), index, kind, restorable, runs, stats_.batches);
  }

  // Combine tables per destination stay cache-resident: at most 4096 entries, and
  // together within the staging share of the budget.
  template <class K, class V>
  std::size_t combine_entries() const {
    const std::size_t per_table = pass_.staging.bytes() /
                                  (static_cast<std::size_t>(ranks()) * static_cast<std::size_t>(threads()) * 4);
    return std::clamp<std::size_t>(per_table / (2 * (sizeof(typename HashTable<K, V>::Slot) + 1)), 16, 4096);
  }

  // A combine table that keeps folding well may grow to this many entries: all of them
  // (every destination and thread) together stay within half the staging share.
  template <class K, class V>
  std::size_t max_combine_entries() const {
    const std::size_t per_table = pass_.staging.bytes() /
                                  (static_cast<std::size_t>(ranks()) * static_cast<std::size_t>(threads()) * 2);
    return std::clamp<std::size_t>(per_table / (2 * (sizeof(typename HashTable<K, V>::Slot) + 1)),
                                   combine_entries<K, V>(), std::size_t{1} << 18);
  }

  /// The map phase with its shuffle (detail/map_phase.hpp) of operation `index`: waves
  /// of up to `threads` batches mapped in parallel, the ranks meeting every few waves to
  /// agree on failure, on whether to exchange and on saving the pass to the checkpoint.
  template <class Source, class MapFn, class Sink, class K, class V>
  void drive(Source& source, MapFn& map, std::vector<Sink>& sinks, detail::Spiller<K, V>& spiller, std::size_t index,
             const char* kind);

  /// Where a map phase stands at a meeting of the ranks (detail/pass_checkpoint.hpp).
  struct PassPosition {
    std::uint64_t batches = 0;  // taken from this rank's source
    bool more = true;           // whether this rank's source may hold more
    std::size_t growth = 0;     // the largest outbox growth of one wave here
  };
  /// Collective, at a meeting: saves the pass's state into the checkpoint.
  template <class Map, class Sink, class K, class V>
  void save_pass(std::size_t index, const char* kind, const std::vector<Map>& maps, std::vector<Sink>& sinks,
                 detail::Spiller<K, V>& spiller, const PassPosition& at);
  /// Collective, the untyped part of save_pass (engine.cpp): the save's directory, the
  /// state `fill` writes, copies of the spilled `runs` (read after `fill`, which may spill),
  /// the manifest line.
  void write_pass_save(std::size_t index, const char* kind, std::size_t pair_bytes, std::uint64_t batches,
                       const std::vector<std::filesystem::path>& runs, const std::function<void(MapStateWriter&)>& fill);
  /// Collective, before the first wave: the state of a pass saved by the run resumed
  /// from, with the source moved past the batches it had mapped. False: none saved.
  template <class Source, class Map, class Sink, class K, class V>
  bool resume_pass(std::size_t index, const char* kind, Source& source, std::vector<Map>& maps,
                   std::vector<Sink>& sinks, detail::Spiller<K, V>& spiller, PassPosition& at);

  template <class Sink>
  static std::size_t pending_bytes(std::vector<Sink>& sinks) noexcept;

  /// At most this many waves between two meetings of the ranks in the map phase: the
  /// delay before a failure on one rank stops the others (a few hundred MiB of input).
  static constexpr std::size_t kMaxWavesBetweenChecks = 32;

  /// One exchange of every thread's outbox (detail/map_phase.hpp).
  template <class Sink>
  void shuffle(std::vector<Sink>& sinks, std::size_t record_size);

  /// Folds the threads' state into thread 0's and returns it as sorted runs.
  template <class Sink, class K, class V>
  detail::SortedRuns<K, V> finish(std::vector<Sink>& sinks, detail::Spiller<K, V>& spiller, std::size_t record_size,
                                    const char* kind);

  Communicator& comm_;
  EngineOptions options_;
  EngineStats stats_;
  struct PassLeases {
    MemoryLease rounds, staging, tables;
  };
  PassLeases pass_;                 // the running operation's shares; empty between operations
  int waves_until_check_ = 1;       // the map phase's first meeting comes after one wave
  std::size_t next_operation_ = 0;  // collective operations so far: their checkpoint numbers
  std::vector<OperationRecord> history_;
  std::chrono::steady_clock::time_point operation_started_;
  double operation_cpu_started_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace pearl

#include "pearl/core/detail/pass_checkpoint.hpp"  // Engine::save_pass, resume_pass
#include "pearl/core/detail/map_phase.hpp"        // Engine::drive, shuffle, finish
