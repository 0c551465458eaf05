// pearl/core/hash_table.hpp — the open-addressing table behind combine and reduce.
//
// Linear probing over a power-of-two array of slots, with a separate byte of tag per
// slot (0 = empty, otherwise 7 bits of the hash): probing compares tags before keys,
// and `prefetch` lets callers hide the cache miss of a large table. Memory is counted
// exactly (`bytes()`), which is what the memory budget and the spill decision use.
//
// Arrays of 4 MiB and more are mapped straight from the kernel with transparent huge
// pages requested (`BigArray`): a randomly probed table then costs far fewer page
// faults and TLB misses, and its zeroed pages need no clearing.
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

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "pearl/core/record.hpp"

namespace pearl {

namespace internal {

inline constexpr std::size_t kBigArrayFrom = std::size_t{4} << 20;  // bytes
inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

/// Asks for transparent huge pages on the whole 2 MiB pages inside [p, p + bytes), for
/// memory not yet touched. A hint: a no-op for small ranges and where unsupported.
inline void advise_huge_pages([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < kBigArrayFrom) return;
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t begin = (at + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const std::uintptr_t end = (at + bytes) & ~(kHugePageBytes - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

/// n default-initialised objects of T, zeroed first when `zeroed` (trivial T: all zero
/// bytes). From `kBigArrayFrom` bytes on (Linux), mapped directly at a huge-page
/// boundary with huge pages requested, and unmapped when released; else on the heap.
template <class T>
class BigArray {
 public:
  BigArray() = default;
  BigArray(std::size_t n, bool zeroed) : n_(n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (n * sizeof(T) >= kBigArrayFrom) {
      static_assert(alignof(T) <= 4096);
      const std::size_t page = 4096;
      mapped_ = (n * sizeof(T) + page - 1) / page * page;
      void* raw = ::mmap(nullptr, mapped_ + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (raw == MAP_FAILED) throw std::bad_alloc();
      // Keep the huge-page aligned part; give back the slack before and after it.
      const auto at = reinterpret_cast<std::uintptr_t>(raw);
      const std::uintptr_t begin = (at + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
      if (begin > at) ::munmap(raw, begin - at);
      const std::uintptr_t tail = begin + mapped_;
      if (at + mapped_ + kHugePageBytes > tail) ::munmap(reinterpret_cast<void*>(tail), at + mapped_ + kHugePageBytes - tail);
      ::madvise(reinterpret_cast<void*>(begin), mapped_, MADV_HUGEPAGE);
      p_ = reinterpret_cast<T*>(begin);
      std::uninitialized_default_construct_n(p_, n_);  // fresh pages are zero already
      return;
    }
#endif
    p_ = zeroed ? new T[n]() : new T[n];
  }
  BigArray(BigArray&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)), mapped_(std::exchange(o.mapped_, 0)) {}
  BigArray& operator=(BigArray&& o) noexcept {
    if (this != &o) {
      release();
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
      mapped_ = std::exchange(o.mapped_, 0);
    }
    return *this;
  }
  BigArray(const BigArray&) = delete;
  BigArray& operator=(const BigArray&) = delete;
  ~BigArray() { release(); }

  [[nodiscard]] T* get() const noexcept { return p_; }
  T& operator[](std::size_t i) const noexcept { return p_[i]; }

 private:
  void release() noexcept {
    if (p_ == nullptr) return;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (mapped_ > 0) {
      std::destroy_n(p_, n_);
      ::munmap(p_, mapped_);
      p_ = nullptr;
      return;
    }
#endif
    delete[] p_;
    p_ = nullptr;
  }

  T* p_ = nullptr;
  std::size_t n_ = 0;
  std::size_t mapped_ = 0;  // bytes mapped, 0 when on the heap
};

/// Sorts pairs with distinct keys by key. Integral keys: LSD radix sort, a byte per
/// pass, skipping the bytes in which no two keys differ (keys below 2^24 take three
/// passes); other keys: std::sort.
template <class K, class V>
void sort_by_key(std::vector<std::pair<K, V>>& v) {
  using P = std::pair<K, V>;
  const std::size_t n = v.size();
  if constexpr (std::is_integral_v<K> && !std::is_same_v<K, bool> && std::is_trivially_destructible_v<V> &&
                std::is_nothrow_copy_constructible_v<V>) {
    if (n >= 512) {
      using U = std::make_unsigned_t<K>;
      constexpr std::size_t digits = sizeof(K);
      const auto ukey = [](const K& k) {
        auto u = static_cast<U>(k);
        if constexpr (std::is_signed_v<K>) u ^= static_cast<U>(U{1} << (8 * sizeof(K) - 1));
        return u;
      };
      U varying = 0;
      const U first = ukey(v[0].first);
      for (const P& p : v) varying |= static_cast<U>(ukey(p.first) ^ first);
      std::array<unsigned, digits> pass{};
      std::size_t passes = 0;
      for (unsigned d = 0; d < digits; ++d) {
        if (((varying >> (8 * d)) & 0xff) != 0) pass[passes++] = d;
      }
      if (passes == 0) return;
      std::vector<std::array<std::size_t, 256>> count(passes, std::array<std::size_t, 256>{});
      for (const P& p : v) {
        const U u = ukey(p.first);
        for (std::size_t j = 0; j < passes; ++j) ++count[j][(u >> (8 * pass[j])) & 0xff];
      }
      // Scratch for n pairs, constructed by the scatter (pairs are trivially destructible).
      static_assert(alignof(P) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
      BigArray<std::byte> scratch(n * sizeof(P), false);
      P* tmp = reinterpret_cast<P*>(scratch.get());
      P* src = v.data();
      P* dst = tmp;
      for (std::size_t j = 0; j < passes; ++j) {
        std::array<std::size_t, 256> at{};
        std::size_t sum = 0;
        for (std::size_t b = 0; b < 256; ++b) {
          at[b] = sum;
          sum += count[j][b];
        }
        const unsigned shift = 8 * pass[j];
        for (std::size_t i = 0; i < n; ++i) {
          ::new (static_cast<void*>(dst + at[(ukey(src[i].first) >> shift) & 0xff]++)) P(src[i]);
        }
        std::swap(src, dst);
      }
      if (src != v.data()) std::copy(src, src + n, v.data());
      return;
    }
  }
  std::sort(v.begin(), v.end(), [](const P& a, const P& b) { return a.first < b.first; });
}

}  // namespace internal

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
    internal::advise_huge_pages(out.data(), size_ * sizeof(std::pair<K, V>));
    for_each([&](const K& k, const V& v) { out.emplace_back(k, v); });
    reset();
    internal::sort_by_key(out);
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
    slots_ = internal::BigArray<Slot>(capacity, false);
    tags_ = internal::BigArray<std::uint8_t>(capacity, true);
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

  internal::BigArray<Slot> slots_;
  internal::BigArray<std::uint8_t> tags_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace pearl
