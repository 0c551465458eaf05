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
#include "pearl/core/record.hpp"
#include "pearl/core/scratch.hpp"

namespace pearl {

namespace internal {

template <class K, class V>
// NOLINTNEXTLINE(readability-identifier-naming): a trait of K and V, named like std::tuple_size_v
constexpr std::size_t pair_size = Codec<K>::size + Codec<V>::size;

template <class K, class V>
void write_pair(std::byte* out, const K& k, const V& v) noexcept {
  Codec<K>::write(out, k);
  Codec<V>::write(out + Codec<K>::size, v);
}

template <class K, class V>
std::pair<K, V> read_pair(const std::byte* in) noexcept {
  return {Codec<K>::read(in), Codec<V>::read(in + Codec<K>::size)};
}

/// Walks several sorted runs (one in memory, others on disk) in merged order of `less`.
template <class K, class V, class Less>
class RunMerger {
 public:
  RunMerger(std::span<const std::pair<K, V>> memory, std::span<const std::filesystem::path> files,
            std::size_t read_buffer, Less less)
      : memory_(memory), less_(less) {
    readers_.reserve(files.size());
    for (const auto& f : files) readers_.push_back(std::make_unique<RunReader>(f, pair_size<K, V>, read_buffer));
    for (std::size_t i = 0; i <= readers_.size(); ++i) push(i);
  }

  /// Next pair in merged order, or false at the end.
  bool next(std::pair<K, V>& out) {
    if (heap_.empty()) return false;
    const Head h = heap_.top();
    heap_.pop();
    out = h.value;
    push(h.source);
    return true;
  }

 private:
  struct Head {
    std::pair<K, V> value;
    std::size_t source;
  };
  // source == readers_.size() is the in-memory run.
  void push(std::size_t source) {
    if (source == readers_.size()) {
      if (memory_pos_ < memory_.size()) heap_.push({memory_[memory_pos_++], source});
      return;
    }
    RunReader& r = *readers_[source];
    if (const std::byte* rec = r.current()) {
      heap_.push({read_pair<K, V>(rec), source});
      r.advance();
    }
  }
  struct Greater {
    Less less;
    bool operator()(const Head& a, const Head& b) const {
      // Ties broken by source so the merge order is deterministic.
      if (less(b.value, a.value)) return true;
      if (less(a.value, b.value)) return false;
      return a.source > b.source;
    }
  };

  std::span<const std::pair<K, V>> memory_;
  std::size_t memory_pos_ = 0;
  std::vector<std::unique_ptr<RunReader>> readers_;
  Less less_;
  std::priority_queue<Head, std::vector<Head>, Greater> heap_{Greater{less_}};
};

template <class K, class V>
struct KeyLess {
  bool operator()(const std::pair<K, V>& a, const std::pair<K, V>& b) const { return a.first < b.first; }
};
template <class K, class V>
struct KeyValueLess {
  bool operator()(const std::pair<K, V>& a, const std::pair<K, V>& b) const {
    if (a.first < b.first) return true;
    if (b.first < a.first) return false;
    return a.second < b.second;
  }
};

/// Sorted runs shared by both result types: the memory run and the spilled files.
template <class K, class V>
struct SortedRuns {
  std::vector<std::pair<K, V>> memory;
  std::vector<std::filesystem::path> files;
  std::shared_ptr<ScratchDir> scratch;  // keeps spilled files alive as long as the result
  std::size_t read_buffer = 1 << 20;
};

/// All ranks' sorted pairs, merged in key order, on every rank (small data only).
template <class K, class V>
std::vector<std::pair<K, V>> gather_sorted(Communicator& comm, const std::vector<std::pair<K, V>>& mine) {
  constexpr std::size_t rec = pair_size<K, V>;
  agree_on_failure(comm, nullptr);
  std::vector<std::byte> bytes(mine.size() * rec);
  for (std::size_t i = 0; i < mine.size(); ++i) write_pair(bytes.data() + i * rec, mine[i].first, mine[i].second);
  std::vector<std::vector<std::byte>> all;
  comm.allgather(bytes, all);
  std::vector<std::pair<K, V>> out;
  for (const auto& part : all) {
    const std::size_t mid = out.size();
    for (std::size_t off = 0; off < part.size(); off += rec) out.push_back(read_pair<K, V>(part.data() + off));
    std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(mid), out.end(), KeyLess<K, V>{});
  }
  return out;
}

}  // namespace internal

/// reduce_by_key's result: one value per key, this rank's keys.
template <KeyRecord K, Record V>
class KeyedResult {
 public:
  using Op = std::function<V(const V&, const V&)>;
  KeyedResult(internal::SortedRuns<K, V> runs, Op op) : runs_(std::move(runs)), op_(std::move(op)) {}

  /// Pulls this rank's pairs in key order, one at a time, merging spilled runs and
  /// folding equal keys on the fly (memory: one read buffer per run).
  class Cursor {
   public:
    explicit Cursor(const KeyedResult& r) : r_(r) {
      if (!r_.runs_.files.empty()) {
        merger_.emplace(r_.runs_.memory, r_.runs_.files, r_.runs_.read_buffer, internal::KeyLess<K, V>{});
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
    std::optional<internal::RunMerger<K, V, internal::KeyLess<K, V>>> merger_;
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
    return internal::gather_sorted(comm, local());
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
    auto all = internal::gather_sorted(comm, mine);
    if (all.size() > n) all.resize(n);
    return all;
  }

  /// Runs that were spilled to scratch while building this result.
  [[nodiscard]] std::size_t spilled_runs() const noexcept { return runs_.files.size(); }

 private:
  internal::SortedRuns<K, V> runs_;
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
  GroupedResult(internal::SortedRuns<K, V> runs, bool values_sorted)
      : runs_(std::move(runs)), values_sorted_(values_sorted) {}

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
          merge_with(internal::KeyValueLess<K, V>{}, take);
          if (have) f(key, std::span<const V>(values));
          return;
        }
      }
      merge_with(internal::KeyLess<K, V>{}, take);
    }
    if (have) f(key, std::span<const V>(values));
  }

  [[nodiscard]] std::size_t spilled_runs() const noexcept { return runs_.files.size(); }

 private:
  template <class Less, class Take>
  void merge_with(Less less, Take& take) const {
    internal::RunMerger<K, V, Less> merger(runs_.memory, runs_.files, runs_.read_buffer, less);
    std::pair<K, V> p;
    while (merger.next(p)) take(p);
  }

  internal::SortedRuns<K, V> runs_;
  bool values_sorted_;
};

}  // namespace pearl
