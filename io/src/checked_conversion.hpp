// io/src/checked_conversion.hpp — the reader's conversion of stored values to contract
// types (not installed): a value that does not convert without loss (hdf5_types.hpp's
// `fits`) is an InputError naming file, table, column, value and row, e.g.
//   "cases-3.h5: table /cases: column 'age_years': value 300 at row 17 does not fit uint8".
//
//   detail::convert_checked<std::uint8_t, std::int16_t>(bytes, sizeof(std::int16_t), n, out, first_row,
//                                                        {where, "age_years", DType::u8});
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>

#include "pearl/core/error.hpp"
#include "pearl/core/table.hpp"

#include "hdf5_types.hpp"

namespace pearl::io::detail {

/// A stored value as the error shows it: floats with all the digits that tell them apart.
template <class V>
std::string show(V v) {
  if constexpr (std::is_integral_v<V>) {
    return std::to_string(v);
  } else {
    std::ostringstream s;
    s << std::setprecision(std::numeric_limits<V>::max_digits10) << v;
    return s.str();
  }
}

/// Where a value error happened, for its message.
struct ColumnContext {
  const std::string& where;
  const std::string& column;
  DType target;
};

[[noreturn]] inline void value_error(const ColumnContext& c, const std::string& value, std::uint64_t row, bool exactness) {
  throw InputError(c.where + ": column '" + c.column + "': value " + value + " at row " + std::to_string(row) +
                   (exactness ? " cannot be stored exactly as " : " does not fit ") + std::string(dtype_name(c.target)));
}

/// Converts n stored values (stride bytes apart from base) into out, checking each.
template <class To, class From>
void convert_checked(const std::byte* base, std::size_t stride, std::size_t n, To* out, std::uint64_t first_row,
                     const ColumnContext& c) {
  if constexpr (std::is_integral_v<From>) {
    // The common case, a contiguous block whose values all fit: integer range checks are
    // monotonic, so the block's minimum and maximum decide, and both loops vectorise.
    if (stride == sizeof(From) && n > 0) {
      const auto* src = reinterpret_cast<const From*>(base);
      From lo = src[0];
      From hi = src[0];
      for (std::size_t i = 1; i < n; ++i) {
        lo = std::min(lo, src[i]);
        hi = std::max(hi, src[i]);
      }
      if (fits<To>(lo) && fits<To>(hi)) {
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<To>(src[i]);
        return;
      }
    }
  }
  // Otherwise value by value, so the first offending row is the one reported.
  for (std::size_t i = 0; i < n; ++i) {
    From v;
    std::memcpy(&v, base + i * stride, sizeof v);
    if (!fits<To>(v)) value_error(c, show(v), first_row + i, std::is_floating_point_v<To>);
    out[i] = static_cast<To>(v);
  }
}

/// Copies n values of exactly type T (stride bytes apart) into out.
template <class T>
void copy_strided(const std::byte* base, std::size_t stride, std::size_t n, T* out) {
  for (std::size_t i = 0; i < n; ++i) std::memcpy(out + i, base + i * stride, sizeof(T));
}

}  // namespace pearl::io::detail
