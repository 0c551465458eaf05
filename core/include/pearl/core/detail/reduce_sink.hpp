// pearl/core/detail/reduce_sink.hpp — not API: one map thread's side of reduce_by_key.
//
// Pairs whose key this rank owns go straight into the rank's table (for thread 0) or the
// thread's own table (merged at the end). Pairs for other ranks are pre-aggregated in a
// small, cache-resident combine table per destination and flushed, serialised, to the
// outbox when it fills: few distinct keys make the shuffle tiny; many distinct keys cost
// one cheap table pass. A table that would outgrow its share of the budget is sorted
// and spilled to scratch first.
//
// A combine table that reaches its full size and folded almost nothing (keys that hardly
// repeat within its window: identifiers, 10M keys over few ranks) is dropped: that
// destination's pairs are then written to the outbox as they come, through a buffer of
// the table's size, and the owner folds them. Every pair had cost an insert into a table
// past the caches (a miss) for nothing.
//
// The hot path is one upsert into the destination's *lane*: lane `rank` holds the owned
// table, every other lane a combine table. Choosing the lane is an index, not a branch,
// so keys spread at random over ranks cost no misprediction. Only a full combine table
// and a large owned table leave the hot path.
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
#include <limits>
#include <span>
#include <vector>

#include "pearl/core/detail/pass_state.hpp"
#include "pearl/core/detail/spiller.hpp"
#include "pearl/core/hash_table.hpp"
#include "pearl/core/shuffle.hpp"

namespace pearl::detail {

template <class K, class V, class Op>
class ReduceSink {
 public:
  ReduceSink(int rank, int ranks, std::size_t table_limit, std::size_t combine_entries,
             std::size_t max_combine_entries, Op op, Spiller<K, V>& spiller)
      : rank_(rank), ranks_(ranks), table_limit_(table_limit), max_combine_entries_(max_combine_entries), op_(op),
        spiller_(spiller), outbox_(ranks) {
    lanes_.reserve(static_cast<std::size_t>(ranks_));
    for (int d = 0; d < ranks_; ++d) {
      if (d == rank_) lanes_.push_back(Lane{HashTable<K, V>(), never, false, 0, {}, 0});
      else lanes_.push_back(Lane{HashTable<K, V>(combine_entries * 2), combine_entries, false, 0, {}, 0});
    }
    // The owned table leaves the hot path (for the ring and the spill check) from the
    // first capacity that is past the caches or whose doubling could break the limit;
    // `fast_until` is the size below which it cannot have reached that capacity.
    std::size_t slow_capacity = 16;
    while (HashTable<K, V>::bytes_for(slow_capacity) < prefetch_from &&
           3 * HashTable<K, V>::bytes_for(slow_capacity) <= table_limit_) {
      slow_capacity *= 2;
    }
    slow_capacity_ = slow_capacity;
    fast_until_ = slow_capacity / 2 * 5 / 8;
    update_slow();
  }
  // Movable (the engine keeps one per thread in a vector), never copied, even when Op
  // can only be copied.
  ReduceSink(const ReduceSink&) = delete;
  ReduceSink& operator=(const ReduceSink&) = delete;
  ReduceSink(ReduceSink&&) noexcept = default;

  /// The emitter a map function calls: emit(key, value).
  void operator()(const K& key, const V& value) {
    ++emitted_;
    const std::uint64_t h = KeyHash<K>{}(key);
    const auto d = static_cast<std::size_t>(ranks_ == 1 ? rank_ : partition_of(h, ranks_));
    Lane& lane = lanes_[d];
    if (lane.slow) [[unlikely]] {
      if (d == static_cast<std::size_t>(rank_)) add_owned(key, value, h);
      else add_uncombined(d, key, value);
      return;
    }
    lane.table.upsert(key, value, h, op_);
    ++lane.inserts;
    if (lane.table.size() >= lane.full_at) [[unlikely]] full(d);
  }

  /// Folds serialised pairs received from other ranks into the owned table.
  void absorb(std::span<const std::byte> bytes) {
    constexpr std::size_t rec = pair_size<K, V>;
    KeyHash<K> hasher;
    Lane& lane = lanes_[static_cast<std::size_t>(rank_)];
    for (std::size_t off = 0; off < bytes.size(); off += rec) {
      const auto [k, v] = read_pair<K, V>(bytes.data() + off);
      const std::uint64_t h = hasher(k);
      if (lane.slow) [[unlikely]] {
        add_owned(k, v, h);
        continue;
      }
      lane.table.upsert(k, v, h, op_);
      if (lane.table.size() >= lane.full_at) [[unlikely]] full(static_cast<std::size_t>(rank_));
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
    other.owned().for_each([&](const K& k, const V& v) { add_owned(k, v, hasher(k)); });
    other.owned().reset();
    other.update_slow();
    drain();
  }

  std::vector<std::pair<K, V>> take_sorted() {
    drain();
    auto sorted = owned().take_sorted();
    update_slow();
    return sorted;
  }
  Outbox& outbox() noexcept { return outbox_; }

  /// Everything later folds depend on, for a checkpoint in the middle of a pass
  /// (pass_state.hpp): every lane with its table's layout and its growth and combining
  /// state, and the outbox. The ring is drained first: its pairs reach the owned table in
  /// the same order either way.
  void save_state(MapStateWriter& w) {
    drain();
    for (const Lane& lane : lanes_) {
      put_table(w, lane.table);
      w.put<std::uint64_t>(lane.full_at);
      w.put<std::uint8_t>(lane.slow ? 1 : 0);
      w.put<std::uint64_t>(lane.inserts);
      w.put<std::uint64_t>(lane.uncombined.size());
      w.put_bytes(std::span<const std::byte>(lane.uncombined.data(), lane.used));
    }
    put_outbox(w, outbox_);
    w.put<std::uint64_t>(uncombined_pairs_);
    w.put<std::uint64_t>(emitted_);
  }
  void load_state(MapStateReader& r) {
    for (Lane& lane : lanes_) {
      get_table(r, lane.table);
      lane.full_at = r.get<std::uint64_t>();
      lane.slow = r.get<std::uint8_t>() != 0;
      lane.inserts = r.get<std::uint64_t>();
      lane.uncombined.resize(r.get<std::uint64_t>());
      const auto used = r.get_bytes();
      if (used.size() > lane.uncombined.size()) r.damaged("a lane's buffer");
      std::copy(used.begin(), used.end(), lane.uncombined.begin());
      lane.used = used.size();
    }
    get_outbox(r, outbox_);
    uncombined_pairs_ = r.get<std::uint64_t>();
    emitted_ = r.get<std::uint64_t>();
    next_ = pending_ = 0;
    Lane& owned_lane = lanes_[static_cast<std::size_t>(rank_)];
    const bool owned_slow = owned_lane.slow;
    update_slow();  // the owned lane's hot-path bounds follow from its table, as saved
    if (owned_lane.slow != owned_slow) r.damaged("the owned table's state");
  }
  /// Pairs written to the outbox without combining (see the file comment).
  [[nodiscard]] std::uint64_t uncombined_pairs() const noexcept { return uncombined_pairs_; }
  /// Pairs the map emitted into this sink (run metrics).
  [[nodiscard]] std::uint64_t emitted() const noexcept { return emitted_; }

 private:
  // Pairs in flight between their prefetch and their insert. 16 covers the latency of
  // a miss at the rate a map loop produces pairs; the table must be past the caches
  // (prefetch_from bytes) for the detour to pay.
  static constexpr std::size_t ring_size = 16;
  static constexpr std::size_t prefetch_from = std::size_t{16} << 20;
  static constexpr std::size_t never = std::numeric_limits<std::size_t>::max();

  struct Lane {
    HashTable<K, V> table;
    std::size_t full_at;  // size that ends the hot path: flush (combine) or go slow (owned)
    bool slow;            // owned lane: inserts take add_owned; others: no combining
    std::size_t inserts = 0;  // combine lanes: pairs folded in since the last flush
    std::vector<std::byte> uncombined;  // lanes without combining: serialised pairs
    std::size_t used = 0;               // bytes of `uncombined` in use
  };
  struct Pending {
    K key;
    V value;
    std::uint64_t hash;
  };

  HashTable<K, V>& owned() noexcept { return lanes_[static_cast<std::size_t>(rank_)].table; }

  /// Whether owned inserts must take add_owned; called whenever that may have changed.
  void update_slow() noexcept {
    Lane& lane = lanes_[static_cast<std::size_t>(rank_)];
    lane.slow = lane.table.capacity() >= slow_capacity_ || lane.table.size() >= fast_until_ || pending_ > 0;
    lane.full_at = lane.slow ? never : fast_until_;
  }

  /// A lane reached its `full_at` size on the hot path.
  [[gnu::noinline]] void full(std::size_t d) {
    if (d == static_cast<std::size_t>(rank_)) {
      update_slow();
      return;
    }
    // Growing pre-aggregation: a combine table starts cache-sized and doubles, up to its
    // share of the staging budget, before it is first flushed. Whether keys repeat only
    // shows once the table holds enough of them (100,000 groups look distinct in a
    // 4,096-entry window), so growth is not gated on the folding seen so far; after the
    // first flush at full size the table stays at that size.
    Lane& lane = lanes_[d];
    if (lane.full_at * 2 <= max_combine_entries_) {
      lane.full_at *= 2;
      return;
    }
    const std::size_t held = lane.table.size(), inserts = lane.inserts;
    flush(static_cast<int>(d));
    // At full size, fewer than 1 pair in 8 folded into a key already there: stop combining.
    if (8 * (inserts - held) < inserts) stop_combining(d, held);
  }

  /// Frees lane d's combine table; from now on its pairs go out as they come, through a
  /// buffer of the table's size (the table's memory, not more).
  void stop_combining(std::size_t d, std::size_t entries) {
    Lane& lane = lanes_[d];
    lane.table = HashTable<K, V>(16);
    lane.uncombined.resize(std::max<std::size_t>(1, entries) * pair_size<K, V>);
    lane.used = 0;
    lane.slow = true;
    lane.full_at = never;
  }

  [[gnu::noinline]] void add_uncombined(std::size_t d, const K& key, const V& value) {
    Lane& lane = lanes_[d];
    write_pair(lane.uncombined.data() + lane.used, key, value);
    lane.used += pair_size<K, V>;
    ++uncombined_pairs_;
    if (lane.used == lane.uncombined.size()) {
      append_to_outbox(static_cast<int>(d), {lane.uncombined.data(), lane.used});
      lane.used = 0;
    }
  }

  /// The owned table's slow path: spill checks, and the prefetch ring once it is large.
  [[gnu::noinline]] void add_owned(const K& key, const V& value, std::uint64_t h) {
    HashTable<K, V>& table = owned();
    if (table.bytes() < prefetch_from) {
      if (pending_ > 0) drain();
      insert_owned(key, value, h);
      update_slow();
      return;
    }
    table.prefetch(h);
    Pending& slot = ring_[next_];
    if (pending_ == ring_size) insert_owned(slot.key, slot.value, slot.hash);
    else ++pending_;
    slot = Pending{key, value, h};
    next_ = (next_ + 1) % ring_size;
    update_slow();
  }

  /// Inserts the pairs still in the ring, oldest first.
  void drain() {
    std::size_t i = (next_ + ring_size - pending_) % ring_size;
    for (; pending_ > 0; --pending_, i = (i + 1) % ring_size) insert_owned(ring_[i].key, ring_[i].value, ring_[i].hash);
    update_slow();
  }

  void insert_owned(const K& key, const V& value, std::uint64_t h) {
    HashTable<K, V>& table = owned();
    // Growing holds old and new arrays at once: spill before that breaks the limit.
    if (table.bytes_after_growth() != table.bytes() && table.bytes() + table.bytes_after_growth() > table_limit_ &&
        !table.empty()) {
      auto sorted = table.take_sorted();
      spiller_.spill(sorted, "reduce");
    }
    table.upsert(key, value, h, op_);
  }

  void flush(int dest) {
    Lane& lane = lanes_[static_cast<std::size_t>(dest)];
    lane.inserts = 0;
    if (lane.used > 0) {
      append_to_outbox(dest, {lane.uncombined.data(), lane.used});
      lane.used = 0;
    }
    auto& t = lane.table;
    if (t.empty()) return;
    constexpr std::size_t rec = pair_size<K, V>;
    // Serialise through a small buffer: appending it copies without zero-filling first.
    staging_.resize(t.size() * rec);
    std::size_t off = 0;
    t.for_each([&](const K& k, const V& v) {
      write_pair(staging_.data() + off, k, v);
      off += rec;
    });
    append_to_outbox(dest, staging_);
    t.clear();
  }

  void append_to_outbox(int dest, std::span<const std::byte> bytes) {
    auto& out = outbox_.to(dest);
    const std::size_t need = out.size() + bytes.size();
    if (out.capacity() < need) {
      // Grow geometrically; a large outbox gets huge pages before its first touch.
      std::vector<std::byte> bigger;
      bigger.reserve(std::max(need, 2 * out.capacity()));
      advise_huge_pages(bigger.data(), bigger.capacity());
      bigger.insert(bigger.end(), out.begin(), out.end());
      out.swap(bigger);
    }
    out.insert(out.end(), bytes.begin(), bytes.end());
  }

  int rank_;
  int ranks_;
  std::size_t table_limit_;
  std::size_t max_combine_entries_;
  Op op_;
  Spiller<K, V>& spiller_;
  std::vector<Lane> lanes_;  // [rank_]: the owned table; others: combine tables
  std::size_t slow_capacity_ = 16;
  std::size_t fast_until_ = 0;
  std::array<Pending, ring_size> ring_{};
  std::size_t next_ = 0;     // ring slot of the next pair
  std::size_t pending_ = 0;  // pairs in the ring
  Outbox outbox_;
  std::vector<std::byte> staging_;  // one combine table, serialised
  std::uint64_t uncombined_pairs_ = 0;
  std::uint64_t emitted_ = 0;
};

}  // namespace pearl::detail
