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
// ranks' parts concatenate into the sorted table, as after Engine::sort_globally.
//
// This pays when the union is dense (a cell moves 8 bytes per slot where a group moves
// its key too, and twice), so it is taken only when the arrays' cells are at most twice
// the bytes the groups would move through the engine, the union fits one array's cap, and
// no rank handed the engine any pairs (rows past the array, or an array's early flush).
// Otherwise every group goes to the engine as before. Folding blocks in rank order makes
// float sums the same from run to run at a given rank count.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "dense_groups.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/results.hpp"

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
    std::vector<std::int64_t> lo(k, std::numeric_limits<std::int64_t>::max());
    // [any engine pairs, groups, hi per key column]: all reduced with max
    std::vector<std::int64_t> most(2 + k, std::numeric_limits<std::int64_t>::min());
    agreed(comm, [&] {
      std::size_t groups = 0;
      for (const auto& a : arrays_) {
        const auto [held, r] = a.extent();
        if (held == 0) continue;
        groups += held;
        for (std::size_t c = 0; c < k; ++c) {
          lo[c] = std::min(lo[c], r[c].first);
          most[2 + c] = std::max(most[2 + c], r[c].second);
        }
      }
      most[0] = engine_pairs ? 1 : 0;
      most[1] = static_cast<std::int64_t>(groups);
    });
    comm.allreduce(std::span<std::int64_t>(lo), ReduceOp::min);
    comm.allreduce(std::span<std::int64_t>(most), ReduceOp::max);
    any_groups_ = most[1] > 0;
    if (most[0] != 0 || !any_groups_) return;
    typename DenseGroups<Value>::Ranges ranges;
    for (std::size_t c = 0; c < k; ++c) ranges.emplace_back(lo[c], most[2 + c]);
    const std::size_t cells = union_.cells_for(ranges);
    const auto groups = static_cast<std::size_t>(most[1]);
    if (cells == 0 || cells * sizeof(Value) > 2 * groups * (key_bytes + sizeof(Value))) return;

    exchanged_ = true;
    const auto p = static_cast<std::size_t>(comm.size());
    const auto r = static_cast<std::size_t>(comm.rank());
    first_ = cells * r / p;
    const std::size_t mine = cells * (r + 1) / p - first_;
    std::vector<std::byte> received;
    std::vector<std::size_t> received_bytes;
    agreed(comm, [&] {
      // One array already laid out over the union (one map thread, the usual case) is
      // used as it is; otherwise the arrays are folded into a new one.
      if (arrays_.size() == 1 && arrays_.front().ranges() == ranges) {
        union_ = std::move(arrays_.front());
      } else {
        union_.cover(ranges);
        for (const auto& a : arrays_) union_.fold_in(a, fold);
      }
      arrays_.clear();
    });
    if (p == 1) {
      block_.swap(union_.cells());
    } else {
      std::vector<std::size_t> send_bytes(p);
      for (std::size_t to = 0; to < p; ++to) send_bytes[to] = (cells * (to + 1) / p - cells * to / p) * sizeof(Value);
      const auto& all = union_.cells();
      comm.alltoallv(std::as_bytes(std::span<const Value>(all)), send_bytes, received, received_bytes);
    }
    agreed(comm, [&] {
      if (p == 1) return;
      std::vector<Value>().swap(union_.cells());  // union_ keeps only the layout, to decode the block
      block_.resize(mine);
      const std::byte* from = received.data();
      for (std::size_t src = 0; src < p; ++src, from += mine * sizeof(Value)) {
        if (received_bytes[src] != mine * sizeof(Value)) throw Error("table.aggregate: a dense block of the wrong size");
        for (std::size_t i = 0; i < mine; ++i) {
          Value v;
          std::memcpy(&v, from + i * sizeof(Value), sizeof(Value));
          if (v[0] == 0) continue;
          block_[i] = block_[i][0] == 0 ? v : fold(block_[i], v);
        }
      }
    });
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
