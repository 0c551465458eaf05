// The kernel side of detail::BigArray (pearl/core/detail/big_array.hpp): huge-page
// aligned anonymous mappings and the madvise hint. Out of the headers so that a job or
// plugin never sees <sys/mman.h>; called once per table allocation, not per element.
#include "pearl/core/detail/big_array.hpp"

#include <cstdint>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace pearl::detail {

namespace {
constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
}  // namespace

void advise_huge_pages([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < kBigArrayFrom) return;
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t begin = (at + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const std::uintptr_t end = (at + bytes) & ~(kHugePageBytes - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

void prefault([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  constexpr std::uintptr_t kPage = 4096;
  if (bytes < kBigArrayFrom) return;
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t begin = (at + kPage - 1) & ~(kPage - 1);
  const std::uintptr_t end = (at + bytes) & ~(kPage - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);  // EINVAL on old kernels: faults as usual
#endif
}

void* map_big([[maybe_unused]] std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  void* raw = ::mmap(nullptr, bytes + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  // Keep the huge-page aligned part; give back the slack before and after it.
  const auto at = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t begin = (at + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  if (begin > at) ::munmap(raw, begin - at);
  const std::uintptr_t tail = begin + bytes;
  if (at + bytes + kHugePageBytes > tail) ::munmap(reinterpret_cast<void*>(tail), at + bytes + kHugePageBytes - tail);
  ::madvise(reinterpret_cast<void*>(begin), bytes, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(begin);
#else
  return nullptr;
#endif
}

void unmap_big([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  ::munmap(p, bytes);
#endif
}

}  // namespace pearl::detail
