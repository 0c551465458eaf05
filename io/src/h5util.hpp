// io/src/h5util.hpp — private helpers shared by the reader and inspect: native memory
// types, stored-type and storage description, link listing, type dispatch.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "pearl/core/table.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/table_info.hpp"

namespace pearl::io::detail {

/// The little-endian file type pearl writes for a numeric contract type (H5I_INVALID_HID
/// for strings, whose type depends on fixed or variable length).
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

/// The contract's view of an HDF5 datatype.
StoredType describe_type(hid_t type);

/// Chunking and filters of a dataset.
StorageInfo storage_of(hid_t dataset, const std::string& what);

/// Opens dataset `name` under `loc` for reading. A chunked dataset without filters is
/// opened with HDF5's chunk cache off: the reader asks for whole chunks (or blocks of
/// 64 Ki rows), which HDF5 then reads straight into the caller's buffer instead of into
/// the cache and out again (bench/io: one copy of every byte fewer, a read-and-count
/// loop over 1 MiB chunks 0.19 -> 0.15 s). Filtered chunks keep the cache, so a block
/// smaller than a chunk does not decompress it again.
Handle open_for_reading(hid_t loc, const std::string& name, const StorageInfo& storage, const std::string& what);

/// Names of the links in a group, in name order.
std::vector<std::string> list_links(hid_t group, const std::string& what);

/// True when every component of the absolute `path` exists as a link in `file`.
bool path_exists(hid_t file, const std::string& path);

/// The dataspace dimensions of a dataset.
std::vector<hsize_t> dims_of(hid_t dataset, const std::string& what);

/// A memory type for reading a string column stored as `stored` (file type `file_type`).
Handle string_memory_type(hid_t file_type, const StoredType& stored, const std::string& what);

/// Frees the variable-length strings HDF5 allocated in `buf` (H5Dvlen_reclaim) when
/// destroyed, so exceptions while copying them out do not leak.
class VlenGuard {
 public:
  VlenGuard(hid_t mem_type, hid_t mem_space, void* buf) noexcept : type_(mem_type), space_(mem_space), buf_(buf) {}
  VlenGuard(const VlenGuard&) = delete;
  VlenGuard& operator=(const VlenGuard&) = delete;
  ~VlenGuard() {
    if (buf_ != nullptr) H5Dvlen_reclaim(type_, space_, H5P_DEFAULT, buf_);
  }

 private:
  hid_t type_;
  hid_t space_;
  void* buf_;
};

/// A fixed-length string's value: up to the first NUL (null-terminated), without
/// trailing NULs (null-padded), without trailing spaces and NULs (space-padded).
std::string decode_fixed(const char* p, std::size_t size, StringPad pad);

}  // namespace pearl::io::detail
