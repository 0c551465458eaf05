// pearl/core/detail/checkpoint_ops.hpp — not API: saving an engine operation's result into a
// Checkpoint and restoring it on resume (used by Engine; see checkpoint.hpp).
//
// A result is this rank's sorted runs: the in-memory run and the spilled files, merged
// on read with ties broken by run order. Both are saved as they are (the memory run as
// one more file, the spilled ones copied) and restored in the same order, so a restored
// result yields exactly the pairs, values and fold order of the one that was saved:
// everything computed from it afterwards is identical, floating-point sums included.
// What does not depend on the key and value types (the agreements, copying spilled runs,
// the manifest) is in core/src/checkpoint_ops.cpp.
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
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/checkpoint.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/detail/sorted_runs.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/scratch.hpp"

namespace pearl::detail {

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

/// Throws the InputError of a saved operation (or pass) that is not the one the job does
/// now: another kind, or pairs of another size.
void check_saved_kind(const Checkpoint& cp, std::size_t index, const std::string& saved_kind, std::size_t saved_pair_bytes,
                      const char* kind, std::size_t pair_bytes);
/// Operation `index` of the checkpoint resumed from, when it holds it and the operation
/// may be skipped (`restorable`), else nullptr. Throws InputError when the saved operation
/// is of another kind or pair size.
const SavedOperation* saved_operation(Checkpoint* cp, std::size_t index, const char* kind, std::size_t pair_bytes,
                                      bool restorable);
/// Copies the spilled runs saved with operation `index`, in their order, into `files` (in
/// a scratch directory made with `make_scratch` when there is one).
void restore_spilled_runs(const Checkpoint& cp, std::size_t index,
                          const std::function<std::shared_ptr<ScratchDir>()>& make_scratch,
                          std::vector<std::filesystem::path>& files, std::shared_ptr<ScratchDir>& scratch);
/// Collective, the untyped part of save_operation: agrees whether to save, and if so has
/// `write_memory_run(file)` write this rank's in-memory run (returning its pairs), copies
/// the spilled `files`, commits the manifest line; then stops the run if a stop was asked.
void save_operation_runs(Communicator& comm, Checkpoint* cp, std::size_t index, const char* kind, bool restorable,
                         std::size_t pair_bytes, std::uint64_t batches, const std::vector<std::filesystem::path>& files,
                         const std::function<std::uint64_t(const std::filesystem::path&)>& write_memory_run);

/// Collective. Operation `index`'s saved result, when the checkpoint resumed from holds it
/// and the operation may be skipped (`restorable`: its map leaves no state the job reads
/// afterwards). Throws InputError when the saved operation is of another kind or type.
template <class K, class V>
std::optional<SortedRuns<K, V>> restore_operation(Communicator& comm, Checkpoint* cp, std::size_t index,
                                                  const char* kind, bool restorable,
                                                  const std::function<std::shared_ptr<ScratchDir>()>& make_scratch,
                                                  std::size_t read_budget) {
  const SavedOperation* saved = saved_operation(cp, index, kind, pair_size<K, V>, restorable);
  if (saved == nullptr) return std::nullopt;
  std::optional<SortedRuns<K, V>> runs;
  agreed(comm, [&] {
    SortedRuns<K, V> r;
    {
      RunReader mem(cp->rank_file(index, "mem"), pair_size<K, V>);
      for (const std::byte* rec; (rec = mem.current()) != nullptr; mem.advance()) r.memory.push_back(read_pair<K, V>(rec));
    }
    restore_spilled_runs(*cp, index, make_scratch, r.files, r.scratch);
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
  save_operation_runs(comm, cp, index, kind, restorable, pair_size<K, V>, batches, runs.files,
                      [&](const std::filesystem::path& file) {
                        RunWriter mem(file, pair_size<K, V>);
                        std::byte rec[pair_size<K, V>];
                        for (const auto& [k, v] : runs.memory) {
                          write_pair(rec, k, v);
                          mem.append(std::span<const std::byte>(rec, pair_size<K, V>));
                        }
                        mem.close();
                        return static_cast<std::uint64_t>(runs.memory.size());
                      });
}

}  // namespace pearl::detail
