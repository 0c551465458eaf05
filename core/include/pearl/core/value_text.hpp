// pearl/core/value_text.hpp — a data value as error messages and logs show it.
//
// Every message that quotes a value from the data goes through `quote_value`, so a
// 1 MB string or a run of control bytes never lands whole on a terminal or in a log:
// at most 80 characters are shown, control bytes and invalid UTF-8 as \xNN, and a
// shortened value ends with an ellipsis and its full length.
//
//   throw pearl::InputError("column 'disease': value " + pearl::quote_value(v) + " is too long");
//   // → column 'disease': value 'AAAA…AAAA…' (1048576 bytes) is too long
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pearl {

/// Characters `quote_value` shows at most.
inline constexpr std::size_t kQuotedValueChars = 80;

/// `value` in single quotes for a message: UTF-8 characters as they are, control bytes,
/// quotes' backslash and invalid UTF-8 bytes as \xNN, cut after `max_chars` characters
/// with "…" and the full length in bytes appended.
std::string quote_value(std::string_view value, std::size_t max_chars = kQuotedValueChars);

/// Byte offset of the first invalid UTF-8 sequence in `s` (overlong forms, surrogates
/// and code points past U+10FFFF are invalid), or std::string_view::npos.
std::size_t invalid_utf8_at(std::string_view s) noexcept;

}  // namespace pearl
