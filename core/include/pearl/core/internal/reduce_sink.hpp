// pearl/core/internal/reduce_sink.hpp — one map thread's side of reduce_by_key.
//
// Pairs whose key this rank owns go straight into the rank's table (for thread 0) or the
// thread's own table (merged at the end). Pairs for other ranks are pre-aggregated in a
// small, cache-resident combine table per destination and flushed, serialised, to the
// outbox when it fills: few distinct keys make the shuffle tiny; many distinct keys cost
// one cheap table pass. A table that would outgrow its share of the budget is sorted
// and spilled to scratch first.
//
// Once the owned table is larger than the caches, every insert is a cache (and TLB)
// miss. Owned pairs then go through a small ring: the slot of a new pair is prefetched
// and the pair inserted `ring_size` pairs later, so several misses are in flight at
// once. The ring is drained before anything reads the table; the order in which pairs
// are folded stays deterministic.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pearl/core/hash_table.hpp"
#include "pearl/core/internal/spiller.hpp"
#include "pearl/core/shuffle.hpp"

namespace pearl::internal {

template <class K, class V, class Op>
class ReduceSink {
 public:
  ReduceSink(int rank, int ranks, std::size_t table_limit, std::size_t combine_entries, Op op,
             Spiller<K, V>& spiller)
      : rank_(rank), ranks_(ranks), table_limit_(table_limit), combine_entries_(combine_entries),
        op_(op), spiller_(spiller), outbox_(ranks) {
    if (ranks_ > 1) {
      combine_.reserve(static_cast<std::size_t>(ranks_));
      for (int d = 0; d < ranks_; ++d) combine_.emplace_back(d == rank_ ? 16 : combine_entries_ * 2);
    }
  }

  /// The emitter a map function calls: emit(key, value).
  void operator()(const K& key, const V& value) {
    const std::uint64_t h = KeyHash<K>{}(key);
    const int dest = ranks_ == 1 ? rank_ : partition_of(h, ranks_);
    if (dest == rank_) {
      add_owned(key, value, h);
      return;
    }
    auto& t = combine_[static_cast<std::size_t>(dest)];
    t.upsert(key, value, h, op_);
    if (t.size() >= combine_entries_) flush(dest);
  }

  /// Folds serialised pairs received from other ranks into the owned table.
  void absorb(std::span<const std::byte> bytes) {
    constexpr std::size_t rec = pair_size<K, V>;
    KeyHash<K> hasher;
    for (std::size_t off = 0; off < bytes.size(); off += rec) {
      const auto [k, v] = read_pair<K, V>(bytes.data() + off);
      add_owned(k, v, hasher(k));
    }
  }

  /// Moves what remains in the combine tables to the outbox (end of the map phase).
  void flush_all() {
    drain();
    for (int d = 0; d < ranks_; ++d) {
      if (d != rank_) flush(d);
    }
  }

  /// Folds another thread's owned table into this one.
  void merge_from(ReduceSink& other) {
    other.drain();
    KeyHash<K> hasher;
    other.owned_.for_each([&](const K& k, const V& v) { add_owned(k, v, hasher(k)); });
    other.owned_.reset();
    drain();
  }

  std::vector<std::pair<K, V>> take_sorted() {
    drain();
    return owned_.take_sorted();
  }
  Outbox& outbox() noexcept { return outbox_; }
  [[nodiscard]] std::size_t table_bytes() const noexcept {
    std::size_t n = owned_.bytes();
    for (const auto& t : combine_) n += t.bytes();
    return n;
  }

 private:
  // Pairs in flight between their prefetch and their insert. 16 covers the latency of
  // a miss at the rate a map loop produces pairs; the table must be past the caches
  // (prefetch_from bytes) for the detour to pay.
  static constexpr std::size_t ring_size = 16;
  static constexpr std::size_t prefetch_from = std::size_t{4} << 20;
  struct Pending {
    K key;
    V value;
    std::uint64_t hash;
  };

  void add_owned(const K& key, const V& value, std::uint64_t h) {
    if (owned_.bytes() < prefetch_from) {
      if (pending_ > 0) drain();
      insert_owned(key, value, h);
      return;
    }
    owned_.prefetch(h);
    Pending& slot = ring_[next_];
    if (pending_ == ring_size) insert_owned(slot.key, slot.value, slot.hash);
    else ++pending_;
    slot = Pending{key, value, h};
    next_ = (next_ + 1) % ring_size;
  }

  /// Inserts the pairs still in the ring, oldest first.
  void drain() {
    std::size_t i = (next_ + ring_size - pending_) % ring_size;
    for (; pending_ > 0; --pending_, i = (i + 1) % ring_size) insert_owned(ring_[i].key, ring_[i].value, ring_[i].hash);
  }

  void insert_owned(const K& key, const V& value, std::uint64_t h) {
    // Growing holds old and new arrays at once: spill before that breaks the limit.
    if (owned_.bytes_after_growth() != owned_.bytes() &&
        owned_.bytes() + owned_.bytes_after_growth() > table_limit_ && !owned_.empty()) {
      auto sorted = owned_.take_sorted();
      spiller_.spill(sorted, "reduce");
    }
    owned_.upsert(key, value, h, op_);
  }

  void flush(int dest) {
    auto& t = combine_[static_cast<std::size_t>(dest)];
    if (t.empty()) return;
    constexpr std::size_t rec = pair_size<K, V>;
    auto& out = outbox_.to(dest);
    const std::size_t need = out.size() + t.size() * rec;
    if (out.capacity() < need) {
      // Grow geometrically; a large outbox gets huge pages before its first touch.
      std::vector<std::byte> bigger;
      bigger.reserve(std::max(need, 2 * out.capacity()));
      advise_huge_pages(bigger.data(), bigger.capacity());
      bigger.insert(bigger.end(), out.begin(), out.end());
      out.swap(bigger);
    }
    // Serialise through a small buffer: appending it copies without zero-filling first.
    staging_.resize(t.size() * rec);
    std::size_t off = 0;
    t.for_each([&](const K& k, const V& v) {
      write_pair(staging_.data() + off, k, v);
      off += rec;
    });
    out.insert(out.end(), staging_.begin(), staging_.end());
    t.clear();
  }

  int rank_;
  int ranks_;
  std::size_t table_limit_;
  std::size_t combine_entries_;
  Op op_;
  Spiller<K, V>& spiller_;
  HashTable<K, V> owned_;
  std::array<Pending, ring_size> ring_{};
  std::size_t next_ = 0;     // ring slot of the next pair
  std::size_t pending_ = 0;  // pairs in the ring
  std::vector<HashTable<K, V>> combine_;
  Outbox outbox_;
  std::vector<std::byte> staging_;  // one combine table, serialised
};

}  // namespace pearl::internal
