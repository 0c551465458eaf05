// pearl/core/hash_table.hpp — the open-addressing table behind combine and reduce.
//
// Linear probing over a power-of-two array of slots, with a separate byte of tag per
// slot (0 = empty, otherwise 7 bits of the hash): probing compares tags before keys,
// and `prefetch` lets callers hide the cache miss of a large table. Memory is counted
// exactly (`bytes()`), which is what the memory budget and the spill decision use.
//
// Arrays of 4 MiB and more are mapped straight from the kernel with transparent huge
// pages requested (detail/big_array.hpp): a randomly probed table then costs far fewer
// page faults and TLB misses, and its zeroed pages need no clearing.
//
//   pearl::HashTable<std::int64_t, double> t;
//   t.upsert(42, 1.5, pearl::KeyHash<std::int64_t>{}(42), std::plus<>{});
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "pearl/core/detail/big_array.hpp"
#include "pearl/core/detail/sort_by_key.hpp"
#include "pearl/core/record.hpp"

namespace pearl {

template <KeyRecord K, Record V>
class HashTable {
 public:
  struct Slot {
    K key;
    V value;
  };

  explicit HashTable(std::size_t initial_capacity = 64) { allocate(round_up(initial_capacity)); }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }
  /// Bytes this table holds on the heap (slots and tags), counted, not estimated.
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_for(capacity()); }
  static constexpr std::size_t bytes_for(std::size_t capacity) noexcept {
    return capacity * (sizeof(Slot) + 1);
  }
  /// Bytes after the next growth: lets callers spill *before* a doubling breaks the budget.
  [[nodiscard]] std::size_t bytes_after_growth() const noexcept {
    return needs_growth() ? bytes_for(2 * capacity()) : bytes();
  }

  void prefetch(std::uint64_t hash) const noexcept {
    const std::size_t i = hash & mask_;
    __builtin_prefetch(tags_.get() + i, 1);
    __builtin_prefetch(slots_.get() + i, 1);
  }

  /// Inserts (key, value) or folds value into the existing one with `op(old, value)`.
  template <class Op>
  void upsert(const K& key, const V& value, std::uint64_t hash, Op& op) {
    if (needs_growth()) [[unlikely]] grow();
    const std::uint8_t tag = tag_of(hash);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const std::uint8_t t = tags_[i];
      if (t == 0) {
        tags_[i] = tag;
        slots_[i].key = key;
        slots_[i].value = value;
        ++size_;
        return;
      }
      if (t == tag && slots_[i].key == key) {
        slots_[i].value = op(slots_[i].value, value);
        return;
      }
    }
  }

  /// Calls f(key, value) for every entry, in table order.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i <= mask_; ++i) {
      if (tags_[i] != 0) f(slots_[i].key, slots_[i].value);
    }
  }

  /// Moves the entries out, sorted by key, and leaves the table empty and small.
  std::vector<std::pair<K, V>> take_sorted() {
    std::vector<std::pair<K, V>> out;
    out.reserve(size_);
    detail::advise_huge_pages(out.data(), size_ * sizeof(std::pair<K, V>));
    for_each([&](const K& k, const V& v) { out.emplace_back(k, v); });
    reset();
    detail::sort_by_key(out);
    return out;
  }

  /// Calls f(slot index, key, value) for every entry: the layout, for a checkpoint.
  template <class F>
  void for_each_slot(F&& f) const {
    for (std::size_t i = 0; i <= mask_; ++i) {
      if (tags_[i] != 0) f(i, slots_[i].key, slots_[i].value);
    }
  }
  /// Empties the table at exactly `capacity` slots (a power of two), for `place`.
  void reset_exact(std::size_t capacity) { allocate(capacity); }
  /// Puts an entry at slot `i`, where for_each_slot found it (restoring a checkpoint).
  void place(std::size_t i, const K& key, const V& value) {
    tags_[i] = tag_of(KeyHash<K>{}(key));
    slots_[i].key = key;
    slots_[i].value = value;
    ++size_;
  }

  /// Empties the table and gives its memory back (down to `capacity`).
  void reset(std::size_t capacity = 64) { allocate(round_up(capacity)); }

  /// Empties the table but keeps its memory: for small, frequently flushed tables.
  void clear() noexcept {
    std::fill_n(tags_.get(), capacity(), std::uint8_t{0});
    size_ = 0;
  }

 private:
  static constexpr std::size_t round_up(std::size_t n) noexcept {
    std::size_t c = 16;
    while (c < n) c *= 2;
    return c;
  }
  static constexpr std::uint8_t tag_of(std::uint64_t hash) noexcept {
    return static_cast<std::uint8_t>(0x80u | (hash >> 57));
  }
  // Load factor at most 5/8: short probe sequences with linear probing.
  [[nodiscard]] bool needs_growth() const noexcept { return (size_ + 1) * 8 > capacity() * 5; }

  void allocate(std::size_t capacity) {
    // Slots need no zeroing, tags do (0 = empty).
    slots_ = detail::BigArray<Slot>(capacity, false);
    tags_ = detail::BigArray<std::uint8_t>(capacity, true);
    mask_ = capacity - 1;
    size_ = 0;
  }

  [[gnu::noinline]] void grow() {
    auto old_slots = std::move(slots_);
    auto old_tags = std::move(tags_);
    const std::size_t old_capacity = capacity();
    const std::size_t entries = size_;
    allocate(old_capacity * 2);
    KeyHash<K> hasher;
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (old_tags[i] == 0) continue;
      const std::uint64_t h = hasher(old_slots[i].key);
      std::size_t j = h & mask_;
      while (tags_[j] != 0) j = (j + 1) & mask_;
      tags_[j] = old_tags[i];
      slots_[j] = old_slots[i];
    }
    size_ = entries;
  }

  detail::BigArray<Slot> slots_;
  detail::BigArray<std::uint8_t> tags_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace pearl
