// pearl/core/internal/reduce_sink.hpp — one map thread's side of reduce_by_key.
//
// Pairs whose key this rank owns go straight into the rank's table (for thread 0) or the
// thread's own table (merged at the end). Pairs for other ranks are pre-aggregated in a
// small, cache-resident combine table per destination and flushed, serialised, to the
// outbox when it fills: few distinct keys make the shuffle tiny; many distinct keys cost
// one cheap table pass. A table that would outgrow its share of the budget is sorted
// and spilled to scratch first.
#pragma once

#include <cstddef>
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
      insert_owned(key, value, h);
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
      insert_owned(k, v, hasher(k));
    }
  }

  /// Moves what remains in the combine tables to the outbox (end of the map phase).
  void flush_all() {
    for (int d = 0; d < ranks_; ++d) {
      if (d != rank_) flush(d);
    }
  }

  /// Folds another thread's owned table into this one.
  void merge_from(ReduceSink& other) {
    KeyHash<K> hasher;
    other.owned_.for_each([&](const K& k, const V& v) { insert_owned(k, v, hasher(k)); });
    other.owned_.reset();
  }

  std::vector<std::pair<K, V>> take_sorted() { return owned_.take_sorted(); }
  Outbox& outbox() noexcept { return outbox_; }
  [[nodiscard]] std::size_t table_bytes() const noexcept {
    std::size_t n = owned_.bytes();
    for (const auto& t : combine_) n += t.bytes();
    return n;
  }

 private:
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
    std::size_t off = out.size();
    out.resize(off + t.size() * rec);
    t.for_each([&](const K& k, const V& v) {
      write_pair(out.data() + off, k, v);
      off += rec;
    });
    t.clear();
  }

  int rank_;
  int ranks_;
  std::size_t table_limit_;
  std::size_t combine_entries_;
  Op op_;
  Spiller<K, V>& spiller_;
  HashTable<K, V> owned_;
  std::vector<HashTable<K, V>> combine_;
  Outbox outbox_;
};

}  // namespace pearl::internal
