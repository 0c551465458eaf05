// KeyLookup: a small hash map probed once per claim or contribution row: the side tables
// social.anomalies replicates on every rank (death days by person, the persons and months of
// unemployment claims, the flagged groups), built once from (key, value) pairs, and the
// index of each claim's (benefit, city) group, grown as claims are read.
//
//   KeyLookup<std::uint64_t, std::int32_t> deaths(gathered);   // vector of pairs, keys unique
//   if (const std::int32_t* day = deaths.find(person)) ...
//   deaths.prefetch(KeyLookup<std::uint64_t, std::int32_t>::hash(person));   // a block's keys first: see hash()
//
// PersonBits, a bitmap of persons' hashes in front of such tables, answers "no rule names
// this person" for most claims from the cache.
//
// Open addressing with linear probing at most half full; a one-byte tag per slot answers
// most misses without touching the key, so a probe of an absent key (the common case: most
// persons are alive, most months have no claim) usually costs one cache line.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "pearl/job.hpp"

namespace pearl::jobs::social {

template <class K, class V>
class KeyLookup {
 public:
  KeyLookup() : KeyLookup(std::vector<std::pair<K, V>>{}) {}
  /// Later duplicates of a key are ignored.
  explicit KeyLookup(const std::vector<std::pair<K, V>>& pairs) {
    std::size_t capacity = 16;
    while (capacity < 2 * pairs.size() + 2) capacity *= 2;
    mask_ = capacity - 1;
    tags_.assign(capacity, 0);
    slots_.resize(capacity);
    for (const auto& [k, v] : pairs) emplace(k, v);
  }

  /// The value of `key`, inserted as `value` when absent.
  V& emplace(const K& key, const V& value) {
    if (2 * (size_ + 1) > tags_.size()) grow();
    const std::uint64_t h = KeyHash<K>{}(key);
    const std::uint8_t tag = tag_of(h);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (tags_[i] == 0) {
        tags_[i] = tag;
        slots_[i] = {key, value};
        ++size_;
        return slots_[i].second;
      }
      if (tags_[i] == tag && slots_[i].first == key) return slots_[i].second;
    }
  }

  [[nodiscard]] const V* find(const K& key) const noexcept { return find(key, hash(key)); }
  [[nodiscard]] bool contains(const K& key) const noexcept { return find(key) != nullptr; }

  /// For a caller that probes many keys of a table larger than the cache: the hashes of a
  /// block of keys first, each slot's tag prefetched, then the probes, whose cache misses
  /// then overlap instead of following one another.
  [[nodiscard]] static std::uint64_t hash(const K& key) noexcept { return KeyHash<K>{}(key); }
  void prefetch(std::uint64_t h) const noexcept { __builtin_prefetch(tags_.data() + (h & mask_)); }
  /// find(key), with `h` = hash(key).
  [[nodiscard]] const V* find(const K& key, std::uint64_t h) const noexcept {
    const std::uint8_t tag = tag_of(h);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const std::uint8_t t = tags_[i];
      if (t == 0) return nullptr;
      if (t == tag && slots_[i].first == key) return &slots_[i].second;
    }
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  /// Heap bytes held (for the memory estimate).
  [[nodiscard]] std::size_t bytes() const noexcept { return tags_.size() * (1 + sizeof(std::pair<K, V>)); }

 private:
  static std::uint8_t tag_of(std::uint64_t h) noexcept { return static_cast<std::uint8_t>((h >> 57) | 1); }
  void grow() {
    std::vector<std::uint8_t> tags(std::max<std::size_t>(16, 2 * tags_.size()), 0);
    std::vector<std::pair<K, V>> slots(tags.size());
    tags.swap(tags_);
    slots.swap(slots_);
    mask_ = tags_.size() - 1;
    size_ = 0;
    for (std::size_t i = 0; i < tags.size(); ++i) {
      if (tags[i] != 0) emplace(slots[i].first, slots[i].second);
    }
  }

  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::vector<std::uint8_t> tags_;
  std::vector<std::pair<K, V>> slots_;
};

/// A set of persons that may answer yes for a person not in it, never no for one in it: one
/// bit per person's hash, at least 2^20 bits (128 KiB) and 16 per person, so that most
/// claims — of persons no rule names — are answered from the cache by one test instead of
/// a probe of each rule's table.
class PersonBits {
 public:
  explicit PersonBits(std::size_t persons = 0) {
    std::size_t bits = std::size_t{1} << 20U;
    while (bits < 16 * persons) bits *= 2;
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(bits));
    words_.assign(bits / 64, 0);
  }
  void add(std::uint64_t person) noexcept {
    const std::uint64_t b = bit(person);
    words_[b >> 6U] |= std::uint64_t{1} << (b & 63U);
  }
  [[nodiscard]] bool may_contain(std::uint64_t person) const noexcept {
    const std::uint64_t b = bit(person);
    return ((words_[b >> 6U] >> (b & 63U)) & 1U) != 0;
  }

 private:
  [[nodiscard]] std::uint64_t bit(std::uint64_t person) const noexcept { return mix64(person) >> shift_; }
  unsigned shift_ = 44;
  std::vector<std::uint64_t> words_;
};

}  // namespace pearl::jobs::social
