// pearl/core/detail/big_array.hpp — not API: the arrays behind HashTable and the radix
// sort. From kBigArrayFrom bytes on they are mapped straight from the kernel with
// transparent huge pages requested: a randomly probed table then costs far fewer page
// faults and TLB misses, and its fresh pages need no clearing. The mapping itself is in
// core/src/big_array.cpp (the only place that needs <sys/mman.h>).
//
//   detail::BigArray<Slot> slots(capacity, /*zeroed=*/false);
//   slots[i] = ...;
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace pearl::detail {

inline constexpr std::size_t kBigArrayFrom = std::size_t{4} << 20;  // bytes

/// Asks for transparent huge pages on the whole 2 MiB pages inside [p, p + bytes), for
/// memory not yet touched. A hint: a no-op for small ranges and where unsupported.
void advise_huge_pages(void* p, std::size_t bytes) noexcept;
/// Faults in the whole pages inside [p, p + bytes) in one call (MADV_POPULATE_WRITE), for
/// fresh memory about to be written through: one system call instead of a page fault per
/// 4 KiB. A hint: a no-op for small ranges and where unsupported.
void prefault(void* p, std::size_t bytes) noexcept;
/// `bytes` (a multiple of 4096) of zeroed memory at a huge-page boundary, huge pages
/// requested; nullptr where the system has no such mapping (then use the heap). Throws
/// std::bad_alloc when the mapping fails.
void* map_big(std::size_t bytes);
/// Gives back what map_big returned.
void unmap_big(void* p, std::size_t bytes) noexcept;

/// n default-initialised objects of T, zeroed first when `zeroed` (trivial T: all zero
/// bytes): from kBigArrayFrom bytes on mapped (map_big), unmapped when released; else on
/// the heap.
template <class T>
class BigArray {
 public:
  BigArray() = default;
  BigArray(std::size_t n, bool zeroed) : n_(n) {
    if (n * sizeof(T) >= kBigArrayFrom) {
      static_assert(alignof(T) <= 4096);
      const std::size_t bytes = (n * sizeof(T) + 4095) / 4096 * 4096;
      if (void* raw = map_big(bytes)) {
        mapped_ = bytes;
        p_ = static_cast<T*>(raw);
        std::uninitialized_default_construct_n(p_, n_);  // fresh pages are zero already
        return;
      }
    }
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
    if (mapped_ > 0) {
      std::destroy_n(p_, n_);
      unmap_big(p_, mapped_);
    } else {
      delete[] p_;
    }
    p_ = nullptr;
  }

  T* p_ = nullptr;
  std::size_t n_ = 0;
  std::size_t mapped_ = 0;  // bytes mapped, 0 when on the heap
};

}  // namespace pearl::detail
