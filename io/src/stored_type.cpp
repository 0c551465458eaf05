// Stored-type names and the type-level conversion rules of the contract.
#include "pearl/io/stored_type.hpp"

#include <string>

namespace pearl::io {

namespace {
}  // namespace

std::string StoredType::name() const {
  switch (cls) {
    case TypeClass::integer: return (is_signed ? "int" : "uint") + std::to_string(size * 8);
    case TypeClass::floating: return "float" + std::to_string(size * 8);
    case TypeClass::string: {
      std::string s = "string(";
      if (variable) {
        s += "variable";
      } else {
        s += "fixed " + std::to_string(size) + ", ";
        s += pad == StringPad::space_padded ? "space-padded" : pad == StringPad::null_padded ? "null-padded" : "null-terminated";
      }
      s += charset == Charset::utf8 ? ", utf-8)" : ", ascii)";
      return s;
    }
    case TypeClass::other: return other.empty() ? std::string("unsupported type") : other;
  }
  return "?";
}

std::string_view conversion_name(Conversion c) noexcept {
  switch (c) {
    case Conversion::exact: return "exact";
    case Conversion::widening: return "widening";
    case Conversion::checked: return "checked";
    case Conversion::none: return "none";
  }
  return "?";
}

Conversion conversion(const StoredType& stored, DType target) noexcept {
  switch (stored.cls) {
    case TypeClass::string:
      return target == DType::str && (stored.variable || stored.size <= kMaxFixedStringBytes) ? Conversion::exact
                                                                                              : Conversion::none;
    case TypeClass::other: return Conversion::none;
    case TypeClass::integer: {
      if (stored.size == 0 || stored.size > 8) return Conversion::none;
      if (dtype_is_integer(target)) {
        const std::size_t w = dtype_width(target);
        const bool ts = dtype_is_signed(target);
        if (stored.size == w && stored.is_signed == ts) return Conversion::exact;
        // The target holds every stored value: unsigned into wider-or-equal unsigned,
        // unsigned into strictly wider signed, signed into wider-or-equal signed.
        const bool fits = stored.is_signed ? (ts && stored.size <= w) : (ts ? stored.size < w : stored.size <= w);
        return fits ? Conversion::widening : Conversion::checked;
      }
      if (target == DType::f32) return stored.size <= 2 ? Conversion::widening : Conversion::checked;
      if (target == DType::f64) return stored.size <= 4 ? Conversion::widening : Conversion::checked;
      return Conversion::none;
    }
    case TypeClass::floating: {
      if (stored.size == 0 || stored.size > kMaxFloatBytes || !dtype_is_float(target)) return Conversion::none;
      const std::size_t w = dtype_width(target);
      if (stored.size == w) return Conversion::exact;
      return stored.size < w ? Conversion::widening : Conversion::checked;
    }
  }
  return Conversion::none;
}

std::string why_not_convertible(const StoredType& stored, DType target) {
  const std::string expected(dtype_name(target));
  switch (stored.cls) {
    case TypeClass::string:
      if (target == DType::str) {
        return "fixed-length strings of more than " + std::to_string(kMaxFixedStringBytes) +
               " bytes are not read (store longer text as variable-length strings)";
      }
      return "a string column cannot be read as " + expected;
    case TypeClass::integer:
      if (target == DType::str) return "a number column cannot be read as a string";
      return "integers wider than 64 bits are not supported";
    case TypeClass::floating:
      if (target == DType::str) return "a number column cannot be read as a string";
      if (stored.size == 0 || stored.size > kMaxFloatBytes) return "floats wider than 128 bits are not supported";
      return "a float column cannot be read as an integer without loss (store it as " + expected + ")";
    case TypeClass::other:
      return "the contract accepts only integer, float and string columns (store it as " + expected + ")";
  }
  return "not convertible";
}

}  // namespace pearl::io
