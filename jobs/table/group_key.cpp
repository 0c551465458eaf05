#include "group_key.hpp"

#include <cstring>
#include <type_traits>
#include <variant>

namespace pearl::jobs {

KeyLayout::KeyLayout(std::vector<ColumnSpec> columns, const std::vector<std::size_t>& string_widths)
    : columns_(std::move(columns)) {
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    const DType t = columns_[c].type;
    const std::size_t w = t == DType::str ? string_widths.at(c) + 1 : dtype_width(t);
    offsets_.push_back(total_);
    widths_.push_back(w);
    total_ += w;
  }
}

namespace {
template <class T>
void put_big_endian(T v, unsigned char* out) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  if constexpr (std::is_signed_v<T>) u ^= static_cast<U>(U{1} << (8 * sizeof(T) - 1));  // sign flip
  for (std::size_t b = 0; b < sizeof(T); ++b) {
    out[sizeof(T) - 1 - b] = static_cast<unsigned char>(u & 0xffu);
    u = static_cast<U>(u >> 8);
  }
}

template <class T>
T get_big_endian(const unsigned char* in) {
  using U = std::make_unsigned_t<T>;
  U u = 0;
  for (std::size_t b = 0; b < sizeof(T); ++b) u = static_cast<U>((u << 8) | in[b]);
  if constexpr (std::is_signed_v<T>) u ^= static_cast<U>(U{1} << (8 * sizeof(T) - 1));
  return static_cast<T>(u);
}
}  // namespace

void KeyLayout::encode(std::size_t c, const ColumnData& data, std::size_t first, std::size_t n, unsigned char* keys,
                       std::size_t stride) const {
  const std::size_t off = offsets_[c];
  const std::size_t width = widths_[c];
  std::visit(
      [&](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          for (std::size_t i = 0; i < n; ++i) {
            unsigned char* k = keys + i * stride + off;
            const std::string& s = values[first + i];
            if (s.size() >= width) throw Error("string '" + s + "' is longer than its column's measured width");
            std::memcpy(k, s.data(), s.size());
            std::memset(k + s.size(), 0, width - s.size());
          }
        } else if constexpr (std::is_integral_v<T>) {
          for (std::size_t i = 0; i < n; ++i) put_big_endian(values[first + i], keys + i * stride + off);
        } else {
          throw InputError("column '" + columns_[c].name + "' is floating point: group by integer or string columns");
        }
      },
      data);
}

void KeyLayout::decode(std::size_t c, const unsigned char* key, ColumnData& out) const {
  const unsigned char* k = key + offsets_[c];
  std::visit(
      [&](auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          values.emplace_back(reinterpret_cast<const char*>(k), ::strnlen(reinterpret_cast<const char*>(k), widths_[c]));
        } else if constexpr (std::is_integral_v<T>) {
          values.push_back(get_big_endian<T>(k));
        }
      },
      out);
}

}  // namespace pearl::jobs
