// pearl/core/results.hpp — what reduce_by_key and group_by_key return on each rank.
//
// A result holds this rank's share of the keys (hash partition), sorted by key, as one
// in-memory run plus any runs spilled to scratch; reading it merges them on the fly, so
// a result larger than memory can still be walked. `gather` collects a small result on
// every rank in global key order, which never depends on the number of ranks or threads.
//
//   auto sums = engine.reduce_by_key<std::int64_t, double>(rows, map, std::plus<>{});
//   sums.for_each([](std::int64_t k, double v) { ... });   // this rank's keys, ascending
//   std::vector<std::pair<std::int64_t, double>> all = sums.gather(comm);
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <span>
#include <utility>
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/detail/sorted_runs.hpp"
#include "pearl/core/record.hpp"
#include "pearl/core/scratch.hpp"

namespace pearl {

/// reduce_by_key's result: one value per key, this rank's keys.
template <KeyRecord K, Record V>
class KeyedResult {
 public:
  using Op = std::function<V(const V&, const V&)>;
  KeyedResult(detail::SortedRuns<K, V> runs, Op op) : runs_(std::move(runs)), op_(std::move(op)) {}

  /// Pulls this rank's pairs in key order, one at a time, merging spilled runs and
  /// folding equal keys on the fly (memory: one read buffer per run).
  class Cursor {
   public:
    explicit Cursor(const KeyedResult& r) : r_(r) {
      if (!r_.runs_.files.empty()) {
        merger_.emplace(r_.runs_.memory, r_.runs_.files, r_.runs_.read_buffer, detail::KeyLess<K, V>{});
        have_pending_ = merger_->next(pending_);
      }
    }
    bool next(std::pair<K, V>& out) {
      if (!merger_) {
        if (at_ >= r_.runs_.memory.size()) return false;
        out = r_.runs_.memory[at_++];
        return true;
      }
      if (!have_pending_) return false;
      out = pending_;
      while ((have_pending_ = merger_->next(pending_)) && pending_.first == out.first) {
        out.second = r_.op_(out.second, pending_.second);
      }
      return true;
    }

   private:
    const KeyedResult& r_;
    std::size_t at_ = 0;
    std::optional<detail::RunMerger<K, V, detail::KeyLess<K, V>>> merger_;
    std::pair<K, V> pending_{};
    bool have_pending_ = false;
  };

  /// Calls f(key, value) for this rank's keys in ascending key order.
  template <class F>
  void for_each(F&& f) const {
    if (runs_.files.empty()) {  // common case: no spill, no merging
      for (const auto& [k, v] : runs_.memory) f(k, v);
      return;
    }
    Cursor c(*this);
    std::pair<K, V> p;
    while (c.next(p)) f(p.first, p.second);
  }

  /// Number of pairs on this rank (a merge pass when spilled).
  [[nodiscard]] std::size_t local_size() const {
    if (runs_.files.empty()) return runs_.memory.size();
    std::size_t n = 0;
    for_each([&](const K&, const V&) { ++n; });
    return n;
  }

  /// This rank's pairs in key order, materialised.
  [[nodiscard]] std::vector<std::pair<K, V>> local() const {
    if (runs_.files.empty()) return runs_.memory;
    std::vector<std::pair<K, V>> out;
    for_each([&](const K& k, const V& v) { out.emplace_back(k, v); });
    return out;
  }

  /// Collective: every rank's pairs, in global key order, on every rank. For results
  /// that fit in one rank's memory (summary tables, side tables).
  [[nodiscard]] std::vector<std::pair<K, V>> gather(Communicator& comm) const {
    return detail::gather_sorted(comm, local());
  }

  /// Collective: the `n` smallest keys over all ranks, in key order, on every rank.
  [[nodiscard]] std::vector<std::pair<K, V>> head(Communicator& comm, std::size_t n) const {
    std::vector<std::pair<K, V>> mine;
    if (n > 0) {
      // for_each has no early exit; the merge cost is bounded by this rank's share.
      for_each([&](const K& k, const V& v) {
        if (mine.size() < n) mine.emplace_back(k, v);
      });
    }
    auto all = detail::gather_sorted(comm, mine);
    if (all.size() > n) all.resize(n);
    return all;
  }

  /// Runs that were spilled to scratch while building this result.
  [[nodiscard]] std::size_t spilled_runs() const noexcept { return runs_.files.size(); }

 private:
  detail::SortedRuns<K, V> runs_;
  Op op_;
};

/// A map for batches that already hold (key, value) pairs: emits each as it is. For a
/// second pass over a ResultBatches, or over any source of ready pairs.
// NOLINTNEXTLINE(readability-identifier-naming): a function object, named like a function (plugin API)
inline constexpr auto forward_pairs = [](const auto& batch, auto& emit) {
  for (const auto& [key, value] : batch) emit(key, value);
};

/// A batch source (see source.hpp) over this rank's pairs of a KeyedResult, in key order,
/// pulled through its Cursor: a second pass (reduce_by_key, group_by_key) reads a first
/// pass's result without materialising it, spilled runs included.
///
///   auto counts = engine.reduce_by_key<DayKey, std::int64_t>(cases, map, std::plus<>{});
///   pearl::ResultBatches<DayKey, std::int64_t> counted(counts);
///   auto series = engine.group_by_key<SeriesKey, DayCount>(counted, regroup);
template <KeyRecord K, Record V>
class ResultBatches {
 public:
  using Batch = std::vector<std::pair<K, V>>;
  explicit ResultBatches(const KeyedResult<K, V>& result, std::size_t batch_pairs = std::size_t{1} << 15)
      : cursor_(result), batch_(std::max<std::size_t>(1, batch_pairs)) {}

  std::optional<Batch> next() {
    Batch b;
    b.reserve(batch_);
    std::pair<K, V> p;
    while (b.size() < batch_ && cursor_.next(p)) b.push_back(p);
    if (b.empty()) return std::nullopt;
    return b;
  }

 private:
  typename KeyedResult<K, V>::Cursor cursor_;
  std::size_t batch_;
};

/// group_by_key's result: all values of each key, this rank's keys.
template <KeyRecord K, Record V>
class GroupedResult {
 public:
  GroupedResult(detail::SortedRuns<K, V> runs, bool values_sorted)
      : runs_(std::move(runs)), values_sorted_(values_sorted) {}

  /// Pulls this rank's pairs one at a time in the order for_each_group delivers them
  /// (keys ascending; values too when sorted), merging spilled runs on the fly.
  class Cursor {
   public:
    explicit Cursor(const GroupedResult& r) : r_(r) {
      if (r_.runs_.files.empty()) return;
      if constexpr (std::totally_ordered<V>) {
        if (r_.values_sorted_) {
          by_value_.emplace(r_.runs_.memory, r_.runs_.files, r_.runs_.read_buffer, detail::KeyValueLess<K, V>{});
          return;
        }
      }
      by_key_.emplace(r_.runs_.memory, r_.runs_.files, r_.runs_.read_buffer, detail::KeyLess<K, V>{});
    }
    bool next(std::pair<K, V>& out) {
      if (by_value_) return by_value_->next(out);
      if (by_key_) return by_key_->next(out);
      if (at_ >= r_.runs_.memory.size()) return false;
      out = r_.runs_.memory[at_++];
      return true;
    }

   private:
    const GroupedResult& r_;
    std::size_t at_ = 0;
    std::optional<detail::RunMerger<K, V, detail::KeyLess<K, V>>> by_key_;
    std::optional<detail::RunMerger<K, V, detail::KeyValueLess<K, V>>> by_value_;
  };

  /// Calls f(key, std::span<const V> values) once per key of this rank, keys ascending;
  /// values ascending when the group was requested with sorted values.
  template <class F>
  void for_each_group(F&& f) const {
    std::vector<V> values;
    bool have = false;
    K key{};
    const auto take = [&](const std::pair<K, V>& p) {
      if (have && !(p.first == key)) {
        f(key, std::span<const V>(values));
        values.clear();
      }
      key = p.first;
      have = true;
      values.push_back(p.second);
    };
    if (runs_.files.empty()) {
      for (const auto& p : runs_.memory) take(p);
    } else {
      if constexpr (std::totally_ordered<V>) {  // values_sorted_ is only ever set for these
        if (values_sorted_) {
          merge_with(detail::KeyValueLess<K, V>{}, take);
          if (have) f(key, std::span<const V>(values));
          return;
        }
      }
      merge_with(detail::KeyLess<K, V>{}, take);
    }
    if (have) f(key, std::span<const V>(values));
  }

  [[nodiscard]] std::size_t spilled_runs() const noexcept { return runs_.files.size(); }

 private:
  template <class Less, class Take>
  void merge_with(Less less, Take& take) const {
    detail::RunMerger<K, V, Less> merger(runs_.memory, runs_.files, runs_.read_buffer, less);
    std::pair<K, V> p;
    while (merger.next(p)) take(p);
  }

  detail::SortedRuns<K, V> runs_;
  bool values_sorted_;
};

}  // namespace pearl
