// pearl/core/fixed_string.hpp — a fixed-capacity string usable as a key or value.
//
// Keys and values in pearl are fixed-size records (they are shuffled and spilled as raw
// bytes), so strings are stored in N bytes, zero-padded. Longer input is an error, never
// silently truncated.
//
//   pearl::FixedString<8> disease("B08.4");
//   std::string_view v = disease.view();   // "B08.4"
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <string>
#include <string_view>

#include "pearl/core/error.hpp"

namespace pearl {

template <std::size_t N>
struct FixedString {
  static_assert(N > 0, "FixedString needs a capacity");
  std::array<char, N> bytes{};  // zero-padded; no terminator when the string fills N

  FixedString() = default;
  explicit FixedString(std::string_view s) {
    if (s.size() > N) {
      throw Error("string '" + std::string(s) + "' is longer than its fixed capacity of " +
                  std::to_string(N) + " bytes");
    }
    std::copy(s.begin(), s.end(), bytes.begin());
  }

  [[nodiscard]] std::string_view view() const noexcept {
    const auto end = std::find(bytes.begin(), bytes.end(), '\0');
    return {bytes.data(), static_cast<std::size_t>(end - bytes.begin())};
  }
  [[nodiscard]] std::string str() const { return std::string(view()); }

  friend bool operator==(const FixedString&, const FixedString&) = default;
  // Byte-wise order equals the order of the strings (zero padding sorts first).
  friend auto operator<=>(const FixedString& a, const FixedString& b) {
    return std::lexicographical_compare_three_way(
        a.bytes.begin(), a.bytes.end(), b.bytes.begin(), b.bytes.end(),
        [](char x, char y) { return static_cast<unsigned char>(x) <=> static_cast<unsigned char>(y); });
  }
};

}  // namespace pearl
