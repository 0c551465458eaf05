// io/src/hdf5_types.hpp — pearl's column types in HDF5 terms, in one place (not installed):
// the file and native memory types of a DType, dispatch from a DType or a stored type to
// its C++ element type, the string types pearl reads and writes, and the range check that
// decides whether a value converts to another type without loss.
//
// A DType's width in bytes is core's dtype_width (HDF5-free); here are only the pieces
// that speak HDF5 or that the reader and the writers must agree on.
//
//   const hid_t mem = native_type(DType::u32);             // H5T_NATIVE_UINT32
//   const Handle str = string_type("out.h5: column 'name'"); // variable-length UTF-8
//   with_numeric(DType::i16, []<class T>(std::type_identity<T>) { ... });  // T = int16_t
//   if (!fits<std::uint8_t>(std::int16_t{300})) ...        // does not fit: an error
#pragma once

#include <hdf5.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "pearl/core/table.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/table_info.hpp"

namespace pearl::io::detail {

/// The little-endian file type pearl writes for a numeric contract type (H5I_INVALID_HID
/// for strings, whose type depends on fixed or variable length: string_type).
inline hid_t file_type(DType t) {
  switch (t) {
    case DType::u8: return H5T_STD_U8LE;
    case DType::u16: return H5T_STD_U16LE;
    case DType::u32: return H5T_STD_U32LE;
    case DType::u64: return H5T_STD_U64LE;
    case DType::i8: return H5T_STD_I8LE;
    case DType::i16: return H5T_STD_I16LE;
    case DType::i32: return H5T_STD_I32LE;
    case DType::i64: return H5T_STD_I64LE;
    case DType::f32: return H5T_IEEE_F32LE;
    case DType::f64: return H5T_IEEE_F64LE;
    case DType::str: break;
  }
  return H5I_INVALID_HID;
}

/// HDF5's native memory type for a C++ element type.
template <class T>
hid_t native() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_NATIVE_UINT8;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return H5T_NATIVE_UINT16;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return H5T_NATIVE_UINT32;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return H5T_NATIVE_UINT64;
  else if constexpr (std::is_same_v<T, std::int8_t>) return H5T_NATIVE_INT8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return H5T_NATIVE_INT16;
  else if constexpr (std::is_same_v<T, std::int32_t>) return H5T_NATIVE_INT32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return H5T_NATIVE_INT64;
  else if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
  else if constexpr (std::is_same_v<T, long double>) return H5T_NATIVE_LDOUBLE;
  else static_assert(sizeof(T) == 0, "no native HDF5 type");
}

/// Calls f(std::type_identity<T>{}) with T the element type of numeric contract type t.
template <class F>
decltype(auto) with_numeric(DType t, F&& f) {
  switch (t) {
    case DType::u8: return f(std::type_identity<std::uint8_t>{});
    case DType::u16: return f(std::type_identity<std::uint16_t>{});
    case DType::u32: return f(std::type_identity<std::uint32_t>{});
    case DType::u64: return f(std::type_identity<std::uint64_t>{});
    case DType::i8: return f(std::type_identity<std::int8_t>{});
    case DType::i16: return f(std::type_identity<std::int16_t>{});
    case DType::i32: return f(std::type_identity<std::int32_t>{});
    case DType::i64: return f(std::type_identity<std::int64_t>{});
    case DType::f32: return f(std::type_identity<float>{});
    case DType::f64:
    case DType::str: break;
  }
  return f(std::type_identity<double>{});
}

/// Calls f(std::type_identity<S>{}) with S the C++ type that holds a stored integer or
/// float at its own width (floats wider than 8 bytes: long double).
template <class F>
decltype(auto) with_stored(const StoredType& s, F&& f) {
  if (s.cls == TypeClass::floating) {
    if (s.size <= 4) return f(std::type_identity<float>{});
    if (s.size <= 8) return f(std::type_identity<double>{});
    return f(std::type_identity<long double>{});
  }
  switch (s.size) {
    case 1: return s.is_signed ? f(std::type_identity<std::int8_t>{}) : f(std::type_identity<std::uint8_t>{});
    case 2: return s.is_signed ? f(std::type_identity<std::int16_t>{}) : f(std::type_identity<std::uint16_t>{});
    case 4: return s.is_signed ? f(std::type_identity<std::int32_t>{}) : f(std::type_identity<std::uint32_t>{});
    default: return s.is_signed ? f(std::type_identity<std::int64_t>{}) : f(std::type_identity<std::uint64_t>{});
  }
}

/// The native memory type of a numeric DType. Throws Error for strings, which have no
/// fixed native type (string_type).
hid_t native_type(DType t);

/// Bytes one value of `t` takes in a packed memory buffer: its width, or one pointer for
/// a string (variable-length strings are read and written as char*).
std::size_t element_size(DType t) noexcept;

/// A string type, owned: variable-length when `fixed_bytes` is 0, else fixed-length and
/// null-padded; in character set `cset` (pearl writes UTF-8). `what` prefixes errors.
Handle string_type(const std::string& what, std::size_t fixed_bytes = 0, H5T_cset_t cset = H5T_CSET_UTF8);

/// The memory type for reading a string column stored as `stored` (file type
/// `file_type`): variable-length strings in their stored character set (HDF5 does not
/// convert between character sets), fixed-length ones as stored.
Handle string_memory_type(hid_t file_type, const StoredType& stored, const std::string& what);

/// Whether value v converts to To without loss, the one rule for the reader's checked
/// conversions and the shard writer's stored types (so what one writes the other reads):
///  - integer → integer: in range;
///  - integer → float: |v| ≤ 2^digits (2^24 float, 2^53 double), where every integer is exact;
///  - float → float: NaN and ±inf always, others when in range and exact after a round trip;
///  - float → integer: never (refused from the types alone, before any value is read).
template <class To, class From>
bool fits(From v) noexcept {
  if constexpr (std::is_integral_v<To> && std::is_integral_v<From>) {
    return std::in_range<To>(v);
  } else if constexpr (std::is_floating_point_v<To> && std::is_integral_v<From>) {
    constexpr std::uint64_t lim = std::uint64_t{1} << std::numeric_limits<To>::digits;
    if constexpr (std::is_signed_v<From>) {
      const auto x = static_cast<std::int64_t>(v);
      return x >= -static_cast<std::int64_t>(lim) && x <= static_cast<std::int64_t>(lim);
    } else {
      return static_cast<std::uint64_t>(v) <= lim;
    }
  } else if constexpr (std::is_floating_point_v<To> && std::is_floating_point_v<From>) {
    if (std::isnan(v) || std::isinf(v)) return true;  // NaN and ±inf survive narrowing
    if (std::fabs(v) > static_cast<From>(std::numeric_limits<To>::max())) return false;
    return static_cast<From>(static_cast<To>(v)) == v;
  } else {
    return false;
  }
}

}  // namespace pearl::io::detail
