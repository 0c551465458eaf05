// pearl/core/memory.hpp — byte sizes as users write them, and the per-rank memory budget.
//
//   std::size_t b = pearl::parse_bytes("2GiB");     // 2147483648
//   pearl::format_bytes(b);                          // "2.0 GiB"
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pearl {

/// Parses "512MiB", "2GiB", "1.5G", "800M", "65536" (bytes). K/M/G/T and KiB/MiB/...
/// are powers of 1024; KB/MB/GB/TB are powers of 1000. Throws InputError naming the text.
std::size_t parse_bytes(std::string_view text);

/// "1.5 GiB", "12.0 MiB", "300 B".
std::string format_bytes(std::size_t bytes);

/// Peak resident set size of this process so far (VmHWM), in bytes; 0 if unknown.
std::size_t peak_rss_bytes();

/// One rank's `--memory`, as configured. Who gets which part of it is the rank's
/// MemoryAccountant's business (pearl/core/memory_accountant.hpp): consumers ask it for a
/// lease instead of taking fractions of `total` themselves.
struct MemoryBudget {
  std::size_t total = std::size_t{1} << 30;
};

}  // namespace pearl
