// pearl/core/detail/map_phase.hpp — not API: the Engine's map phase: drive (map waves on the
// threads, the ranks meeting to agree on failure and on when to exchange), shuffle (one
// exchange of the threads' outboxes) and finish (the threads' state folded into sorted
// runs). Engine member templates, defined here so that engine.hpp shows the operations a
// job calls; included at the end of engine.hpp, not on its own.
//
//   drive(source, map, sinks, spiller, index, "reduce_by_key");   // in reduce_by_key & co.
//   auto runs = finish(sinks, spiller, detail::pair_size<K, V>, "reduce_by_key");
#pragma once

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/detail/parallel_wave.hpp"
#include "pearl/core/memory.hpp"
#include "pearl/core/shuffle.hpp"
#include "pearl/core/stop.hpp"

namespace pearl {

/// The map phase with its shuffle: waves of up to `threads` batches mapped in parallel.
/// Every few waves the ranks meet in one allreduce that agrees on failure and on
/// whether to exchange (someone's outbox passed the staging limit, or all sources are
/// drained). How many waves until the next meeting follows from the reduced values
/// alone (the largest outbox and the largest growth per wave over all ranks), so every
/// rank computes the same schedule: far from the limit the ranks run up to
/// kMaxWavesBetweenChecks waves apart, instead of in lockstep behind the slowest rank
/// of every wave; near it they meet every wave. A rank that failed, or has no batches
/// left, only waits for the meeting.
///
/// With a checkpoint, a meeting also agrees on saving the pass (the checkpoint is due on
/// some rank, or a stop was requested): every rank has finished its waves, so its sinks,
/// spilled runs and input position are the whole state of the pass (pass_checkpoint.hpp).
/// The map phase then defers stop requests to its meetings: one stops the run right
/// after the meeting's save. A pass that cannot be saved (its map keeps state across
/// batches it does not save itself, or its source cannot skip batches) stops as before
/// and starts over on resume.
template <class Source, class MapFn, class Sink, class K, class V>
void Engine::drive(Source& source, MapFn& map, std::vector<Sink>& sinks, detail::Spiller<K, V>& spiller,
                   std::size_t index, const char* kind) {
  using Batch = typename Source::Batch;
  constexpr std::size_t record_size = detail::pair_size<K, V>;
  // A map with state across batches (FinishingMap) is copied per thread and finished
  // once this rank's batches run out; a plain map is shared by the threads.
  constexpr bool finishing = FinishingMap<MapFn, Sink>;
  std::vector<std::decay_t<MapFn>> copies;
  if constexpr (finishing) {
    copies.reserve(sinks.size());  // copy-constructed only: lambdas inside need not be assignable
    for (std::size_t t = 0; t < sinks.size(); ++t) copies.emplace_back(map);
  }
  const auto map_of = [&](std::size_t t) -> auto& {
    if constexpr (finishing) return copies[t];
    else return map;
  };
  stats_ = {};
  operation_started_ = std::chrono::steady_clock::now();
  operation_cpu_started_ = process_cpu_seconds();
  Checkpoint* const cp = options_.checkpoint.get();
  const bool savable = cp != nullptr && detail::pass_savable<Source, Sink>(map);
  if (cp != nullptr && !savable) {
    progress("checkpoint: operation " + std::to_string(index) + " (" + kind + ") is saved only once its pass is done (" +
             (SeekableSource<Source> ? "its map keeps state across batches" : "its input cannot skip batches") +
             "): a stop in the pass starts the pass over on resume");
  }
  PassPosition at;  // batches taken, whether more may come, the largest growth of one wave here
  if constexpr (SeekableSource<Source>) {
    if (savable) resume_pass(index, kind, source, copies, sinks, spiller, at);
  }
  std::optional<DeferStop> stops_at_meetings;  // stop requests wait for the next meeting's save
  if (savable) stops_at_meetings.emplace();
  bool& more_here = at.more;
  std::size_t& growth_here = at.growth;
  std::vector<Batch> wave;
  std::vector<std::exception_ptr> failures(sinks.size());
  const auto started = std::chrono::steady_clock::now();
  auto last_report = started;
  const std::size_t staging = pass_.staging.bytes();
  for (;;) {
    std::exception_ptr failure;
    const int waves = waves_until_check_;
    for (int w = 0; w < waves && more_here && !failure; ++w) {
      try {
        const std::size_t before = pending_bytes(sinks);
        wave.clear();
        while (more_here && wave.size() < sinks.size()) {
          std::optional<Batch> b = source.next();
          if (b) wave.push_back(std::move(*b));
          else more_here = false;
          if (b) ++at.batches;
        }
        detail::parallel_wave(wave.size(), threads(), [&](std::size_t i, std::size_t t) {
          try {
            map_of(t)(std::as_const(wave[i]), sinks[t]);
          } catch (...) {
            failures[t] = std::current_exception();
          }
        });
        for (auto& f : failures) {
          if (f) std::rethrow_exception(std::exchange(f, nullptr));
        }
        if constexpr (RecyclingSource<Source>) {
          for (auto& b : wave) source.recycle(std::move(b));  // the next wave is read into them
        }
        if constexpr (finishing) {
          // This rank's last wave: the maps hand on what they kept (the loop ends here,
          // so this runs once).
          if (!more_here) {
            for (std::size_t t = 0; t < sinks.size(); ++t) copies[t].finish(sinks[t]);
          }
        }
        stats_.batches += wave.size();
        const std::size_t after = pending_bytes(sinks);
        stats_.largest_outbox = std::max<std::uint64_t>(stats_.largest_outbox, after);
        growth_here = std::max(growth_here, after > before ? after - before : 0);
        if (after > staging) break;  // over the limit: meet now
      } catch (...) {
        failure = std::current_exception();
      }
    }
    // Save now: 1 the checkpoint is due, 2 a stop was requested (deferred to here).
    const std::int64_t save_here =
        !savable ? 0 : (cp->due() ? 1 : 0) | (stop_points_open() && stop_requested() != 0 ? 2 : 0);
    std::int64_t values[4] = {static_cast<std::int64_t>(pending_bytes(sinks)), more_here ? 1 : 0,
                              static_cast<std::int64_t>(growth_here), save_here};
    // One collective per meeting: failure agreement, the exchange inputs and the save.
    agree_on_failure(comm_, failure, std::span<std::int64_t>(values, 4));
    const auto max_pending = static_cast<std::size_t>(values[0]);
    const bool drained = values[1] == 0;
    const auto max_growth = static_cast<std::size_t>(values[2]);
    if (drained) {
      for (auto& s : sinks) s.flush_all();
    }
    const bool exchange_now = max_pending > staging || drained;
    if (exchange_now) shuffle(sinks, record_size);
    if (drained) break;
    // Waves that fit in the headroom left under the limit (at the largest growth seen
    // anywhere, doubled for bursts of combine-table flushes): the same on every rank.
    const std::size_t pending_now = exchange_now ? 0 : max_pending;
    const std::size_t headroom = staging > pending_now ? staging - pending_now : 0;
    waves_until_check_ = static_cast<int>(
        std::clamp<std::size_t>(headroom / std::max<std::size_t>(1, 2 * max_growth), 1, kMaxWavesBetweenChecks));
    if (values[3] != 0) {
      save_pass(index, kind, copies, sinks, spiller, at);
      // A stop that arrived during a periodic save is honoured at once: the state just
      // saved is where the pass stands (one more allreduce, once per save).
      std::int64_t stop_now = (values[3] & 2) != 0 || (stop_points_open() && stop_requested() != 0) ? 1 : 0;
      if ((values[3] & 2) == 0) agree_on_failure(comm_, nullptr, std::span<std::int64_t>(&stop_now, 1));
      if (stop_now != 0) {
        stops_at_meetings.reset();
        agree_on_failure(comm_, nullptr);  // throws StopRequested on every rank
      }
    }
    if (options_.verbose && std::chrono::steady_clock::now() - last_report > std::chrono::seconds(2)) {
      last_report = std::chrono::steady_clock::now();
      progress("map: " + std::to_string(stats_.batches) + " batches on rank 0, " +
               std::to_string(stats_.exchanges) + " exchanges, peak RSS " + format_bytes(peak_rss_bytes()));
    }
  }
  waves_until_check_ = 1;
}

template <class Sink>
std::size_t Engine::pending_bytes(std::vector<Sink>& sinks) noexcept {
  std::size_t pending = 0;
  for (auto& s : sinks) pending += s.outbox().pending();
  return pending;
}

template <class Sink>
void Engine::shuffle(std::vector<Sink>& sinks, std::size_t record_size) {
  std::vector<Outbox> outboxes;
  outboxes.reserve(sinks.size());
  for (auto& s : sinks) outboxes.push_back(std::move(s.outbox()));
  const ExchangeStats ex = exchange(comm_, outboxes, record_size, pass_.rounds.bytes(),
                                    [&](std::span<const std::byte> bytes) { sinks.front().absorb(bytes); });
  for (std::size_t t = 0; t < sinks.size(); ++t) sinks[t].outbox() = std::move(outboxes[t]);
  ++stats_.exchanges;
  stats_.rounds += ex.rounds;
  stats_.bytes_sent += ex.bytes_sent;
  stats_.bytes_received += ex.bytes_received;
  stats_.pairs_sent += ex.bytes_sent / record_size;
  stats_.largest_round = std::max<std::uint64_t>(stats_.largest_round, ex.largest_round);
}

/// Folds the threads' state into thread 0's and returns it as sorted runs.
template <class Sink, class K, class V>
detail::SortedRuns<K, V> Engine::finish(std::vector<Sink>& sinks, detail::Spiller<K, V>& spiller, std::size_t record_size,
                                  const char* kind) {
  std::optional<detail::SortedRuns<K, V>> runs;
  for (const auto& s : sinks) stats_.pairs_emitted += s.emitted();
  const DeferStop save_first;  // a stop now is taken after the operation's save (checkpoint_ops.hpp)
  agreed(comm_, [&] {
    for (std::size_t t = 1; t < sinks.size(); ++t) sinks.front().merge_from(sinks[t]);
    auto memory = sinks.front().take_sorted();
    stats_.spilled_runs = spiller.runs();
    stats_.spilled_bytes = spiller.bytes();
    const std::size_t read_buffer =
        std::clamp<std::size_t>(pass_.tables.bytes() / (spiller.runs() + 1) / 4, record_size, 1 << 20);
    runs = spiller.finish(std::move(memory), read_buffer);
    hold_result(*runs);
  });
  progress("shuffle done: " + std::to_string(stats_.batches) + " batches, " + std::to_string(stats_.exchanges) +
           " exchanges in " + std::to_string(stats_.rounds) + " rounds, " + format_bytes(stats_.bytes_sent) +
           " sent, " + std::to_string(stats_.spilled_runs) + " runs spilled" +
           (stats_.uncombined_pairs > 0 ? ", " + std::to_string(stats_.uncombined_pairs) + " pairs sent uncombined" : "") +
           " (rank 0)");
  record_operation(kind);
  return std::move(*runs);
}

}  // namespace pearl
