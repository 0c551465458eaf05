// pearl's column types in HDF5 terms: native memory types, element sizes, string types.
#include "hdf5_types.hpp"

namespace pearl::io::detail {

hid_t native_type(DType t) {
  if (t == DType::str) throw Error("native_type: string columns have no fixed native type");
  return with_numeric(t, []<class T>(std::type_identity<T>) { return native<T>(); });
}

std::size_t element_size(DType t) noexcept { return t == DType::str ? sizeof(char*) : dtype_width(t); }

Handle string_type(const std::string& what, std::size_t fixed_bytes, H5T_cset_t cset) {
  Handle t = check(H5Tcopy(H5T_C_S1), what + ": cannot create a string type");
  check_status(H5Tset_size(t.id(), fixed_bytes > 0 ? fixed_bytes : H5T_VARIABLE), what + ": string size");
  check_status(H5Tset_cset(t.id(), cset), what + ": string character set");
  if (fixed_bytes > 0) check_status(H5Tset_strpad(t.id(), H5T_STR_NULLPAD), what + ": string padding");
  return t;
}

Handle string_memory_type(hid_t file_type, const StoredType& stored, const std::string& what) {
  if (stored.variable) return string_type(what, 0, stored.charset == Charset::utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
  return check(H5Tcopy(file_type), what + ": cannot copy the string type");
}

}  // namespace pearl::io::detail
