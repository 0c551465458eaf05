// jobs/table/dense_reduce.hpp — every rank's dense arrays folded into one, in key order.
//
// When the map counted every row of every rank in dense arrays (dense_groups.hpp), their
// cells are already in key order, so table.aggregate need not hand the groups to the
// engine's hash shuffle and then sort them globally (two exchanges of every group, and
// every group inserted into hash tables on the way: bench/io, 100,000 groups at 2 ranks,
// ~35 ms of a 0.17 s run). Instead each rank lays its arrays out over the union of all
// ranks' key ranges, the ranks split that array into one block of cells per rank, and
// each rank receives its block from every rank (one all-to-all, as a reduce-scatter does)
// and folds them in rank order. Rank r's block precedes rank r+1's in key order: the
// ranks' parts concatenate into the sorted table, as after Engine::sort_globally. The
// exchange is the engine's (pearl/core/dense_reduce.hpp); this class decides whether it
// pays and lays the arrays out for it.
//
// This pays when the union is dense (a cell moves 8 bytes per slot where a group moves
// its key too, and twice), so it is taken only when the arrays' cells are at most twice
// the bytes the groups would move through the engine, the union fits one array's cap, and
// no rank handed the engine any pairs (rows past the array, or an array's early flush).
// Otherwise every group goes to the engine as before. Folding blocks in rank order makes
// float sums the same from run to run at a given rank count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "dense_groups.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::table_aggregate {

template <class Value>
class DenseReduce {
 public:
  /// Collective. `arrays`: this rank's map threads' arrays; `engine_pairs`: whether this
  /// rank handed the engine any pairs; `key_bytes`: bytes of a key moved through the
  /// engine; `empty`: an array with the map's settings, for a rank without any.
  template <class Fold>
  DenseReduce(Communicator& comm, std::vector<DenseGroups<Value>> arrays, bool engine_pairs, std::size_t key_bytes,
              DenseGroups<Value> empty, const Fold& fold)
      : arrays_(std::move(arrays)), union_(std::move(empty)) {
    const std::size_t k = union_.key_columns();
    DenseExtent extent(k);
    std::size_t groups = 0;
    for (const auto& a : arrays_) {
      const auto [held, r] = a.extent();
      if (held == 0) continue;
      groups += held;
      for (std::size_t c = 0; c < k; ++c) extent.widen(c, r[c].first, r[c].second);
    }
    // [any engine pairs, groups]: reduced with max, with the union of the key ranges
    std::int64_t most[] = {engine_pairs ? 1 : 0, static_cast<std::int64_t>(groups)};
    const DenseExtent all = union_extent(comm, std::move(extent), most);
    any_groups_ = most[1] > 0;
    if (most[0] != 0 || !any_groups_) return;
    const typename DenseGroups<Value>::Ranges ranges = all.ranges();
    const std::size_t cells = union_.cells_for(ranges);
    if (cells == 0 || cells * sizeof(Value) > 2 * static_cast<std::size_t>(most[1]) * (key_bytes + sizeof(Value))) {
      return;
    }

    exchanged_ = true;
    // One array already laid out over the union (one map thread, the usual case) is used
    // as it is; otherwise the arrays are folded into a new one.
    if (arrays_.size() == 1 && arrays_.front().ranges() == ranges) {
      union_ = std::move(arrays_.front());
    } else {
      union_.cover(ranges);
      for (const auto& a : arrays_) union_.fold_in(a, fold);
    }
    arrays_.clear();
    // union_ keeps only the layout, to decode the block; an empty cell has count 0.
    auto block = reduce_dense_cells(comm, std::move(union_.cells()), fold, [](const Value& v) { return v[0] == 0; });
    first_ = block.first;
    block_ = std::move(block.cells);
  }

  /// True: the groups were reduced here, and for_each_group gives this rank's part of the
  /// result. False: they go to the engine (pairs()), if there are any (any_groups()).
  [[nodiscard]] bool exchanged() const noexcept { return exchanged_; }
  [[nodiscard]] bool any_groups() const noexcept { return any_groups_; }

  /// f(key values, value) for this rank's part of the result, in key order.
  template <class F>
  void for_each_group(F&& f) const {
    union_.for_each_group(first_, block_.size(), f, block_.data());
  }

  /// The packed key of key values given by for_each_group (see DenseGroups::packed_key).
  template <class PackKey>
  [[nodiscard]] std::uint64_t packed_key(const std::int64_t* values, const PackKey& pack) const {
    return union_.packed_key(values, pack);
  }

  /// Every group of this rank's arrays, for the engine: (packed key, value), where
  /// pack(c, v) gives the key bits of value v of key column c.
  template <class Key, class PackKey>
  std::vector<std::pair<Key, Value>> pairs(const PackKey& pack) {
    std::vector<std::pair<Key, Value>> out;
    const auto emit = [&](Key key, const Value& v) { out.emplace_back(key, v); };
    for (auto& a : arrays_) a.flush(emit, pack);
    arrays_.clear();
    return out;
  }

 private:
  std::vector<DenseGroups<Value>> arrays_;
  DenseGroups<Value> union_;  // the union's layout (and, until sent, its cells)
  bool exchanged_ = false;
  bool any_groups_ = false;
  std::size_t first_ = 0;     // this rank's first cell of the union
  std::vector<Value> block_;  // cells [first_, first_ + block_.size()) of the union, reduced
};

/// A batch source for the fallback: the arrays' groups, then the pairs the engine already
/// holds (rows that went past the arrays), so that one more reduce (map: forward_pairs)
/// folds them together.
template <class Key, class Value>
class PairsThenResult {
 public:
  using Batch = std::vector<std::pair<Key, Value>>;
  PairsThenResult(Batch groups, KeyedResult<Key, Value> result)
      : groups_(std::move(groups)), result_(std::move(result)), rest_(result_) {}
  PairsThenResult(const PairsThenResult&) = delete;  // rest_ reads result_ in place

  std::optional<Batch> next() {
    if (!groups_.empty()) return std::exchange(groups_, {});
    return rest_.next();
  }

 private:
  Batch groups_;
  KeyedResult<Key, Value> result_;
  ResultBatches<Key, Value> rest_;
};

}  // namespace pearl::jobs::table_aggregate
