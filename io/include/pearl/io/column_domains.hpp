// pearl/io/column_domains.hpp — the values each contract column may hold, as data.
//
// The data contract (docs/user-guide.md, "Bad rows") gives many columns a domain beyond
// their type: age 0..120, sex 1 or 2, a Guangdong region code, a non-negative finite
// amount of money, a plausible day. The domains are declared here once, per contract
// table and column, and checked by the table source as rows are read (row_checks.hpp),
// so no job re-codes them. String columns of any table must be valid UTF-8 without NUL
// bytes; that check needs no declaration.
//
//   if (const pearl::io::ColumnDomain* d = pearl::io::contract_domain("cases", "age_years")) {
//     std::vector<std::size_t> bad;
//     pearl::io::find_outside(*d, column, bad);  // the rows whose value is outside, in order
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pearl/core/table.hpp"

namespace pearl::io {

/// The values one column may hold.
struct ColumnDomain {
  enum class Kind : std::uint8_t {
    integers,  ///< an integer inside one of `ranges` (inclusive)
    month,     ///< yyyymm with yyyy inside `ranges[0]` and mm 1..12
    region,    ///< a county- or city-level GB/T 2260 code of one of Guangdong's 21 cities
    real,      ///< a finite number inside [lo, hi]
  };
  Kind kind = Kind::integers;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  double lo = 0;
  double hi = 0;
  /// The domain in words, to follow "is not": "in 0..120", "1 or 2", "a Guangdong region code".
  std::string text;
};

/// The domain of `column` in contract table `table`, or nullptr when the contract
/// gives it none (identifiers, free measurements) or the table is not a contract table.
const ColumnDomain* contract_domain(std::string_view table, std::string_view column);

/// Appends to `rows` the index of every value of `column` outside `domain`, in order.
/// One tight (vectorised) pass over the column when every value is inside.
void find_outside(const ColumnDomain& domain, const ColumnData& column, std::vector<std::size_t>& rows);

/// Appends to `rows` the index of every string of `column` with a string_fault, or
/// longer than `max_bytes` bytes when that is not 0 (ColumnSpec::max_bytes).
void find_string_faults(const std::vector<std::string>& column, std::vector<std::size_t>& rows,
                        std::size_t max_bytes = 0);

/// What is wrong with string `s` as a column value ("holds a NUL byte", "is not valid
/// UTF-8"), or an empty view when nothing is.
std::string_view string_fault(std::string_view s) noexcept;

}  // namespace pearl::io
