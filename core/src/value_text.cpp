// quote_value and the UTF-8 validator it shares with the readers and the output writer.
#include "pearl/core/value_text.hpp"

namespace pearl {

namespace {
/// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned c = p[i];
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if ((c & 0xE0U) == 0xC0U) {
    len = 2, min = 0x80, cp = c & 0x1FU;
  } else if ((c & 0xF0U) == 0xE0U) {
    len = 3, min = 0x800, cp = c & 0x0FU;
  } else if ((c & 0xF8U) == 0xF0U) {
    len = 4, min = 0x10000, cp = c & 0x07U;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((p[i + k] & 0xC0U) != 0x80U) return 0;
    cp = (cp << 6U) | (p[i + k] & 0x3FU);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}
}  // namespace

std::size_t invalid_utf8_at(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    // ASCII runs are the common case: one comparison per byte.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence(s, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string quote_value(std::string_view value, std::size_t max_chars) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "'";
  std::size_t chars = 0;
  std::size_t i = 0;
  while (i < value.size() && chars < max_chars) {
    const auto c = static_cast<unsigned char>(value[i]);
    const std::size_t len = utf8_sequence(value, i);
    if (len == 0 || c < 0x20 || c == 0x7F || c == '\\' || c == '\'') {
      if (c == '\\' || c == '\'') {
        out += '\\';
        out += static_cast<char>(c);
      } else {
        out += "\\x";
        out += hex[c >> 4U];
        out += hex[c & 0xFU];
      }
      ++i;
    } else {
      out.append(value.substr(i, len));
      i += len;
    }
    ++chars;
  }
  if (i == value.size()) return out + "'";
  return out + "…' (" + std::to_string(value.size()) + " bytes)";
}

}  // namespace pearl
