// jobs/table/group_key.hpp — grouping keys of runtime-chosen columns as sortable bytes.
//
// table.aggregate groups by any mix of integer and string columns, chosen on the
// command line, but the engine's keys are fixed-size records. Each key is therefore
// encoded into N bytes so that comparing the bytes compares the column values in order:
// unsigned integers big-endian, signed integers big-endian with the sign bit flipped,
// strings as their bytes zero-padded to the column's longest value + 1. The byte order
// of the key is then exactly the output's sort order, whatever the column types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pearl/job.hpp"

namespace pearl::jobs {

/// Where each grouping column sits in the encoded key.
class KeyLayout {
 public:
  /// `string_widths[i]` is the longest string of column i in bytes (ignored for integers).
  KeyLayout(std::vector<ColumnSpec> columns, const std::vector<std::size_t>& string_widths);

  [[nodiscard]] std::size_t bytes() const noexcept { return total_; }
  [[nodiscard]] const std::vector<ColumnSpec>& columns() const noexcept { return columns_; }

  /// Writes column `c` of rows [first, first + n) of `data` into `keys` (row first + i
  /// at keys + i * stride).
  void encode(std::size_t c, const ColumnData& data, std::size_t first, std::size_t n, unsigned char* keys,
              std::size_t stride) const;
  /// Appends the value of column `c` in `key` to `out` (a column of the same type).
  void decode(std::size_t c, const unsigned char* key, ColumnData& out) const;

 private:
  std::vector<ColumnSpec> columns_;
  std::vector<std::size_t> offsets_;
  std::vector<std::size_t> widths_;
  std::size_t total_ = 0;
};


}  // namespace pearl::jobs
