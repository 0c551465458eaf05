// pearl/core/fixed_string.hpp — a fixed-capacity string usable as a key or value.
//
// Keys and values in pearl are fixed-size records (they are shuffled and spilled as raw
// bytes), so strings are stored in N bytes, zero-padded. Longer input is an error, never
// silently truncated.
//
//   pearl::FixedString<8> disease("B08.4");
//   std::string_view v = disease.view();   // "B08.4"
//
// Read a string column that goes into one with fixed_string_column, so that a value too
// long for it is a bad row of the input (exit 2 naming file, table, column and row, or
// set aside with --on-bad-row skip), found by the reader before the job sees it:
//
//   using Disease = pearl::FixedString<16>;
//   TableInput cases = ctx.input("cases", {pearl::fixed_string_column<Disease>("disease")});
//
// Choosing N: the longest value the column may hold, in UTF-8 bytes (a Chinese character
// is 3). `pearl inspect FILE` shows the longest value of each string column; leave room
// for codes to grow. Keys are compared and shuffled as all N bytes, so do not choose N
// far larger than needed.
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "pearl/core/error.hpp"
#include "pearl/core/table.hpp"
#include "pearl/core/value_text.hpp"

namespace pearl {

template <std::size_t N>
struct FixedString {
  static_assert(N > 0, "FixedString needs a capacity");
  static constexpr std::size_t capacity = N;
  std::array<char, N> bytes{};  // zero-padded; no terminator when the string fills N

  FixedString() = default;
  explicit FixedString(std::string_view s) {
    if (s.size() > N) {
      // Input read with fixed_string_column never gets here (the reader refuses it first).
      throw InputError("string " + quote_value(s) + " is longer than its fixed capacity of " + std::to_string(N) +
                       " bytes (read the column with pearl::fixed_string_column to have the reader name its row)");
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

/// The ColumnSpec that reads string column `name` for a FixedString type S: values longer
/// than S holds are bad rows (ColumnSpec::max_bytes).
template <class S>
  requires requires { S::capacity; }
ColumnSpec fixed_string_column(std::string name) {
  return {std::move(name), DType::str, S::capacity};
}

}  // namespace pearl
