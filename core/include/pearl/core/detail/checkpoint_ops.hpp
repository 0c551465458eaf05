// pearl/core/internal/checkpoint_ops.hpp — saving an engine operation's result into a
// Checkpoint and restoring it on resume (used by Engine; see checkpoint.hpp).
//
// A result is this rank's sorted runs: the in-memory run and the spilled files, merged
// on read with ties broken by run order. Both are saved as they are (the memory run as
// one more file, the spilled ones copied) and restored in the same order, so a restored
// result yields exactly the pairs, values and fold order of the one that was saved:
// everything computed from it afterwards is identical, floating-point sums included.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "pearl/core/agreement.hpp"
#include "pearl/core/checkpoint.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/results.hpp"
#include "pearl/core/scratch.hpp"
#include "pearl/core/stop.hpp"

namespace pearl::internal {

/// Whether an operation mapping with `map` may be skipped on resume. A map with a
/// `finish(emit)` member may keep state the job reads after the operation (table.aggregate
/// leaves its dense arrays for its own exchange), so it is run again unless it says it
/// keeps none: `bool keeps_state_after_finish() const`.
template <class Sink, class MapFn>
bool restorable_map(const MapFn& map) {
  if constexpr (!requires(std::decay_t<MapFn>& m, Sink& emit) { m.finish(emit); }) {
    return true;
  } else if constexpr (requires { { map.keeps_state_after_finish() } -> std::convertible_to<bool>; }) {
    return !map.keeps_state_after_finish();
  } else {
    return false;
  }
}

/// Collective. Operation `index`'s saved result, when the checkpoint resumed from holds it
/// and the operation may be skipped (`restorable`: its map leaves no state the job reads
/// afterwards). Throws InputError when the saved operation is of another kind or type.
template <class K, class V>
std::optional<SortedRuns<K, V>> restore_operation(Communicator& comm, Checkpoint* cp, std::size_t index,
                                                  const char* kind, bool restorable,
                                                  const std::function<std::shared_ptr<ScratchDir>()>& make_scratch,
                                                  std::size_t read_budget) {
  if (cp == nullptr || !restorable) return std::nullopt;
  const SavedOperation* saved = cp->saved(index);
  if (saved == nullptr) return std::nullopt;
  if (saved->kind != kind || saved->pair_bytes != pair_size<K, V>) {
    throw InputError("--resume: operation " + std::to_string(index) + " in the checkpoint " + cp->dir().string() +
                     " is a " + saved->kind + " of " + std::to_string(saved->pair_bytes) + "-byte pairs, the job now does a " +
                     kind + " of " + std::to_string(pair_size<K, V>) + "-byte pairs (another pearl build?); run without --resume");
  }
  std::optional<SortedRuns<K, V>> runs;
  agreed(comm, [&] {
    SortedRuns<K, V> r;
    {
      RunReader mem(cp->rank_file(index, "mem"), pair_size<K, V>);
      for (const std::byte* rec; (rec = mem.current()) != nullptr; mem.advance()) r.memory.push_back(read_pair<K, V>(rec));
    }
    for (std::size_t j = 0;; ++j) {
      const auto from = cp->rank_file(index, "run-" + std::to_string(j));
      if (!std::filesystem::exists(from)) break;
      if (!r.scratch) r.scratch = make_scratch();
      r.files.push_back(r.scratch->new_file("restored"));
      std::filesystem::copy_file(from, r.files.back());
    }
    r.read_buffer = std::clamp<std::size_t>(read_budget / (r.files.size() + 1) / 4, pair_size<K, V>, 1 << 20);
    runs = std::move(r);
  });
  cp->count_restored(*saved);
  return runs;
}

/// Collective, at the end of operation `index`: saves its result when the checkpoint is
/// due on any rank or a stop was requested, then stops the run if one was (StopRequested
/// on every rank, after the save). `batches`: what the operation mapped, for the log.
template <class K, class V>
void save_operation(Communicator& comm, Checkpoint* cp, std::size_t index, const char* kind, bool restorable,
                    const SortedRuns<K, V>& runs, std::uint64_t batches) {
  if (cp == nullptr) return;
  std::int64_t wanted[2] = {cp->due() ? 1 : 0, stop_points_active() ? stop_requested() : 0};
  {
    const DeferStop finish_the_save;
    agree_on_failure(comm, nullptr, std::span<std::int64_t>(wanted, 2));
    if (restorable && (wanted[0] != 0 || wanted[1] != 0)) {
      agreed(comm, [&] {
        if (comm.rank() == 0) {
          std::filesystem::remove_all(cp->op_dir(index));  // a save a crash interrupted
          std::filesystem::create_directories(cp->op_dir(index));
        }
      });
      std::int64_t pairs = 0;
      agreed(comm, [&] {
        RunWriter mem(cp->rank_file(index, "mem"), pair_size<K, V>);
        std::byte rec[pair_size<K, V>];
        for (const auto& [k, v] : runs.memory) {
          write_pair(rec, k, v);
          mem.append(std::span<const std::byte>(rec, pair_size<K, V>));
        }
        mem.close();
        pairs = static_cast<std::int64_t>(runs.memory.size());
        for (std::size_t j = 0; j < runs.files.size(); ++j) {
          std::filesystem::copy_file(runs.files[j], cp->rank_file(index, "run-" + std::to_string(j)));
          pairs += static_cast<std::int64_t>(std::filesystem::file_size(runs.files[j]) / pair_size<K, V>);
        }
      });
      comm.allreduce(std::span<std::int64_t>(&pairs, 1), ReduceOp::sum);
      agreed(comm, [&] {
        cp->commit({index, kind, pair_size<K, V>, batches, static_cast<std::uint64_t>(pairs)});
      });
      cp->saved_now();
    }
  }
  if (wanted[1] != 0) agree_on_failure(comm, nullptr);  // stop points open: throws StopRequested everywhere
}

}  // namespace pearl::internal
