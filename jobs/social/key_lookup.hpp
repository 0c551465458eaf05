// KeyLookup: a small hash map probed once per claim or contribution row: the side tables
// social.anomalies replicates on every rank (death days by person, the persons and months of
// unemployment claims, the flagged groups), built once from (key, value) pairs, and the
// index of each claim's (benefit, city) group, grown as claims are read.
//
//   KeyLookup<std::uint64_t, std::int32_t> deaths(gathered);   // vector of pairs, keys unique
//   if (const std::int32_t* day = deaths.find(person)) ...
//
// Open addressing with linear probing at most half full; a one-byte tag per slot answers
// most misses without touching the key, so a probe of an absent key (the common case: most
// persons are alive, most months have no claim) usually costs one cache line.
#pragma once

#include <algorithm>
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

  [[nodiscard]] const V* find(const K& key) const noexcept {
    const std::uint64_t h = KeyHash<K>{}(key);
    const std::uint8_t tag = tag_of(h);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const std::uint8_t t = tags_[i];
      if (t == 0) return nullptr;
      if (t == tag && slots_[i].first == key) return &slots_[i].second;
    }
  }
  [[nodiscard]] bool contains(const K& key) const noexcept { return find(key) != nullptr; }
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

}  // namespace pearl::jobs::social
