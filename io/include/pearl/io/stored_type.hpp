// pearl/io/stored_type.hpp — how a column is stored in HDF5, and whether (and how) it
// converts to a contract type.
//
// Shards come from many tools, so the same contract column arrives as int16 or int64,
// big- or little-endian, fixed or variable strings. `StoredType` describes what is on
// disk in the terms the contract uses; `conversion` decides, from the types alone, how
// a reader gets the contract type out of it without losing anything:
//
//   StoredType s = reader.info().columns[3].stored;   // e.g. int16
//   switch (pearl::io::conversion(s, pearl::DType::u8)) {
//     case Conversion::exact:     // same width and kind: read straight into the column
//     case Conversion::widening:  // every stored value fits: converted while reading
//     case Conversion::checked:   // read at the stored width, check every value (here: int16 → uint8)
//     case Conversion::none:      // a type error (string vs number, float → integer, ...)
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pearl/core/table.hpp"

namespace pearl::io {

/// The kinds of stored values the contract accepts, plus `other` for everything else
/// (enums such as NumPy bool, arrays, nested compounds, opaque, references, ...).
enum class TypeClass : std::uint8_t { integer, floating, string, other };

/// How a fixed-length string fills its bytes (HDF5's H5T_str_t).
enum class StringPad : std::uint8_t { null_terminated, null_padded, space_padded };

/// A string's declared character set. Bytes are passed through either way.
enum class Charset : std::uint8_t { ascii, utf8 };

/// A column's stored HDF5 type, as the contract sees it.
struct StoredType {
  TypeClass cls = TypeClass::other;
  /// Bytes per value: integer/float width; a fixed string's length; 0 for a
  /// variable-length string.
  std::size_t size = 0;
  bool is_signed = false;                      // integers only
  bool variable = false;                       // strings: variable-length
  StringPad pad = StringPad::null_terminated;  // fixed-length strings
  Charset charset = Charset::ascii;            // strings
  bool big_endian = false;                     // integers and floats; HDF5 swaps while reading
  std::string other;                           // cls == other: HDF5's class name ("enum", "array", ...)

  /// A short name for messages and `pearl inspect`: "int16", "uint64", "float32",
  /// "string(fixed 5, null-padded, ascii)", "string(variable, utf-8)", "enum".
  [[nodiscard]] std::string name() const;
  friend bool operator==(const StoredType&, const StoredType&) = default;
};

/// How a stored type becomes a contract type.
enum class Conversion : std::uint8_t {
  exact,     // same kind and width (byte order aside): read straight into the column
  widening,  // every value of the stored type fits the target: converted without checks
  checked,   // only some values fit: read at the stored width and check each value
  none,      // not convertible without loss: a type error
};

/// "exact", "widening", "checked", "none".
std::string_view conversion_name(Conversion c) noexcept;

/// The widest fixed-length string read, in bytes. HDF5 lets a type claim up to 4 GiB, and
/// a dataset's rows can be fill values that take no room in the file, so a file of a few
/// KiB could ask a reader for gigabytes per row (found by tests/fuzz, table_layout). Codes
/// and names are tens of bytes; longer text belongs in variable-length strings.
inline constexpr std::size_t kMaxFixedStringBytes = std::size_t{64} << 10;
/// The widest float read, in bytes (long double's 16 at most).
inline constexpr std::size_t kMaxFloatBytes = 16;

/// Decides the conversion from the types alone (values are checked later, on read):
///  - integer → integer: widening when the target holds the stored range, else checked;
///  - integer → float: widening when the stored width fits the mantissa (≤ 16 bits for
///    float32, ≤ 32 bits for float64), else checked (|v| ≤ 2^24 resp. 2^53);
///  - float → float: widening when not narrower, float64 → float32 checked (round trip);
///  - string → string: exact, unless fixed-length and wider than kMaxFixedStringBytes;
///  - float → integer, string ↔ number, floats wider than kMaxFloatBytes, and any `other`
///    type: none.
Conversion conversion(const StoredType& stored, DType target) noexcept;

/// Why `conversion(stored, target)` is none, as a sentence fragment for an error
/// message, e.g. "a float column cannot be read as an integer without loss".
std::string why_not_convertible(const StoredType& stored, DType target);

}  // namespace pearl::io
