// pearl/core/sorted_result.hpp — a KeyedResult made from pairs a job produces already in
// ascending key order, without a pass through the engine.
//
// A job whose last grouping pass walks its keys in order (GroupedResult::for_each_group)
// and emits one output row per finer key (a cell's time slots, an OD pair's hours) has
// this rank's rows sorted and unique already. Engine::sort_globally wants a KeyedResult;
// a local reduce_by_key made one at the cost of a hash table and a sort and, when the
// row's key hashes to another rank than the group's key, a shuffle of every row.
// SortedResultBuilder takes the rows as they come: in memory up to a byte limit, then in
// run files in scratch (each spilled piece is a consecutive range of one ascending
// sequence, so the result reads them in order). A key not above the previous one is a
// bug in the caller and throws.
//
//   pearl::SortedResultBuilder<FlowKey, FlowStats> rows(engine.options().scratch, "flow-rows",
//       ctx.memory().lease("flow sorted rows", pearl::MemoryShare::job_buffer));
//   cells.for_each_group([&](const Cell& c, std::span<const Obs> obs) { ...; rows.push(key, stats); });
//   pearl::KeyedResult<FlowKey, FlowStats> sorted = engine.sort_globally(std::move(rows).finish());
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/detail/spiller.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/record.hpp"
#include "pearl/core/results.hpp"
#include "pearl/core/scratch.hpp"

namespace pearl {

template <KeyRecord K, Record V>
class SortedResultBuilder {
 public:
  /// `scratch_parent` empty: $TMPDIR or /tmp. `tag` names the scratch directory and files.
  SortedResultBuilder(std::filesystem::path scratch_parent, std::string tag, std::size_t memory_bytes)
      : tag_(std::move(tag)),
        limit_(std::max<std::size_t>(1024, memory_bytes / sizeof(std::pair<K, V>))),
        spiller_([parent = scratch_parent.empty() ? ScratchDir::default_parent() : std::move(scratch_parent),
                  tag = tag_] { return std::make_shared<ScratchDir>(parent, tag); }) {}
  /// The same within a lease from the rank's MemoryAccountant, which the result keeps.
  SortedResultBuilder(std::filesystem::path scratch_parent, std::string tag, MemoryLease share)
      : SortedResultBuilder(std::move(scratch_parent), std::move(tag), share.bytes()) {
    share_ = std::move(share);
  }

  /// Appends a pair whose key is above every key pushed before it (throws Error if not).
  void push(const K& key, const V& value) {
    if (have_last_ && !(last_ < key)) {
      throw Error("SortedResultBuilder '" + tag_ + "': keys must be pushed in strictly ascending order");
    }
    last_ = key;
    have_last_ = true;
    memory_.emplace_back(key, value);
    if (memory_.size() >= limit_) {
      spilled_ += memory_.size();
      spiller_.spill(memory_, tag_.c_str());  // one consecutive, ascending run
    }
  }

  /// Pairs pushed so far (memory and disk).
  [[nodiscard]] std::size_t size() const noexcept { return spilled_ + memory_.size(); }

  /// The pairs as a KeyedResult (keys unique: its fold is never called); the builder is
  /// left empty.
  KeyedResult<K, V> finish() && {
    const auto keep_first = [](const V& a, const V&) { return a; };
    // The runs keep their scratch directory alive as long as the result.
    auto runs = spiller_.finish(std::move(memory_), detail::SortedRuns<K, V>{}.read_buffer);
    if (share_.bytes() > 0) runs.held = std::make_shared<MemoryLease>(std::move(share_));
    return KeyedResult<K, V>(std::move(runs), keep_first);
  }

 private:
  std::string tag_;
  std::size_t limit_;
  std::vector<std::pair<K, V>> memory_;
  detail::Spiller<K, V> spiller_;
  MemoryLease share_;  // empty when made with a byte count
  std::size_t spilled_ = 0;
  K last_{};
  bool have_last_ = false;
};

}  // namespace pearl
