// pearl/core/detail/group_sink.hpp — not API: one map thread's side of group_by_key.
//
// Every pair is kept (no combining): pairs this rank owns go to the thread's buffer,
// others to the outbox. The buffer's memory is reserved once at its limit (pages are
// only touched as it fills, so it costs no more than it holds) and, when full, is
// sorted (group_sort.hpp) and spilled to scratch.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <vector>

#include "pearl/core/detail/big_array.hpp"
#include "pearl/core/detail/group_sort.hpp"
#include "pearl/core/detail/pass_state.hpp"
#include "pearl/core/detail/spiller.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/shuffle.hpp"

namespace pearl::detail {

/// The default owner of a key: by hash, so keys spread evenly whatever their values.
struct HashPartitioner {
  template <class K>
  int operator()(const K& key, int ranks) const noexcept {
    return partition_of(KeyHash<K>{}(key), ranks);
  }
};

/// Owner by key range: rank r owns keys in [splitters[r-1], splitters[r]).
template <class K>
struct RangePartitioner {
  const std::vector<K>* splitters;
  int operator()(const K& key, int) const noexcept {
    return static_cast<int>(std::upper_bound(splitters->begin(), splitters->end(), key) - splitters->begin());
  }
};

template <class K, class V, class Partitioner = HashPartitioner>
class GroupSink {
 public:
  GroupSink(int rank, int ranks, std::size_t buffer_limit, bool sort_values, Spiller<K, V>& spiller,
            Partitioner partitioner = {})
      : rank_(rank), ranks_(ranks), capacity_(std::max<std::size_t>(1, buffer_limit / sizeof(std::pair<K, V>))),
        sort_values_(sort_values), spiller_(spiller), partitioner_(partitioner), outbox_(ranks) {
    if (sort_values && !std::totally_ordered<V>) {
      throw Error("group_by_key with sort_values needs a value type with operator< and operator==");
    }
  }

  void operator()(const K& key, const V& value) {
    ++emitted_;
    const int dest = ranks_ == 1 ? rank_ : partitioner_(key, ranks_);
    if (dest == rank_) {
      keep(key, value);
      return;
    }
    constexpr std::size_t rec = pair_size<K, V>;
    auto& out = outbox_.to(dest);
    const std::size_t off = out.size();
    out.resize(off + rec);
    write_pair(out.data() + off, key, value);
  }

  void absorb(std::span<const std::byte> bytes) {
    constexpr std::size_t rec = pair_size<K, V>;
    for (std::size_t off = 0; off < bytes.size(); off += rec) {
      const auto [k, v] = read_pair<K, V>(bytes.data() + off);
      keep(k, v);
    }
  }

  void merge_from(GroupSink& other) {
    for (const auto& [k, v] : other.pairs_) keep(k, v);
    std::vector<std::pair<K, V>>().swap(other.pairs_);
  }

  std::vector<std::pair<K, V>> take_sorted() {
    sort(pairs_);
    return std::move(pairs_);
  }
  Outbox& outbox() noexcept { return outbox_; }

  /// The kept pairs in their order and the outbox, for a checkpoint in the middle of a
  /// pass (pass_state.hpp).
  void save_state(MapStateWriter& w) const {
    w.put<std::uint64_t>(pairs_.size());
    for (const auto& [k, v] : pairs_) w.put_pair(k, v);
    put_outbox(w, outbox_);
    w.put<std::uint64_t>(emitted_);
  }
  void load_state(MapStateReader& r) {
    const auto n = r.get<std::uint64_t>();
    if (n > capacity_) r.damaged("a buffer's size");
    pairs_.clear();
    if (n > 0) pairs_.reserve(capacity_);
    for (std::uint64_t i = 0; i < n; ++i) pairs_.push_back(r.get_pair<K, V>());
    get_outbox(r, outbox_);
    emitted_ = r.get<std::uint64_t>();
  }
  /// Pairs the map emitted into this sink (run metrics).
  [[nodiscard]] std::uint64_t emitted() const noexcept { return emitted_; }
  void flush_all() {}

 private:
  void keep(const K& key, const V& value) {
    if (pairs_.capacity() == 0) pairs_.reserve(capacity_);
    if (pairs_.size() == capacity_) {
      sort(pairs_);
      spiller_.spill(pairs_, "group");
      pairs_.reserve(capacity_);
    }
    if (pairs_.size() % kPrefaultChunk == 0) prefault_ahead();
    pairs_.emplace_back(key, value);
  }
  /// Pairs per chunk of the buffer faulted in at once (8 MiB).
  static constexpr std::size_t kPrefaultChunk = (std::size_t{8} << 20) / sizeof(std::pair<K, V>);
  /// The reserved buffer's next chunk of pages, faulted in as the buffer reaches it (one
  /// system call per chunk instead of a page fault per 4 KiB; at most a chunk ahead).
  void prefault_ahead() {
    const std::size_t end = std::min(pairs_.capacity(), pairs_.size() + kPrefaultChunk);
    prefault(pairs_.data() + pairs_.size(), (end - pairs_.size()) * sizeof(std::pair<K, V>));
  }
  void sort(std::vector<std::pair<K, V>>& v) const {
    // Values need operator< only when they are sorted: sort_globally and unsorted groups
    // accept any record type as value (e.g. a struct of counters without comparisons).
    // The faster ways copy the pairs once: only while they fill at most half the buffer's
    // share, so the copy stays within it.
    sort_groups(v, sort_values_, v.size() <= capacity_ / 2);
  }

  int rank_;
  int ranks_;
  std::size_t capacity_;
  bool sort_values_;
  Spiller<K, V>& spiller_;
  Partitioner partitioner_;
  std::vector<std::pair<K, V>> pairs_;
  Outbox outbox_;
  std::uint64_t emitted_ = 0;
};

}  // namespace pearl::detail
