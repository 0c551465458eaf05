// jobs/health/outbreak/series_key.hpp — the --by columns of health.outbreak as one
// sortable fixed-size key.
//
// A series is identified by any of region (at --region-level), disease and sex, in the
// order --by lists them. They are encoded into bytes whose byte order is the output's
// sort order: region_code as 4 big-endian bytes, sex as 1 byte, disease as its bytes
// zero-padded to the longest disease in the input (zero sorts before every character).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pearl/job.hpp"

namespace pearl::jobs {

class SeriesKey {
 public:
  enum class Part : std::uint8_t { region, disease, sex };

  /// `by` holds "region", "disease", "sex"; `disease_width` is the longest disease in bytes.
  SeriesKey(const std::vector<std::string>& by, RegionLevel level, std::size_t disease_width);

  [[nodiscard]] std::size_t bytes() const noexcept { return total_; }
  /// The input columns the key is made of, in --by order (region_code, disease, sex).
  [[nodiscard]] std::vector<ColumnSpec> input_columns() const;
  /// The output's key columns (the same names and types).
  [[nodiscard]] std::vector<ColumnSpec> output_columns() const { return input_columns(); }

  /// Writes the key of one series to `key` (bytes() of them, zero-filled): `region`
  /// already at the key's region level; parts not in the key are ignored.
  void encode(std::uint32_t region, std::uint8_t sex, std::string_view disease, unsigned char* key) const;
  /// Appends the key's values to the first parts().size() columns of `out`.
  void decode(const unsigned char* key, OutputTable& out) const;

 private:
  struct Slot {
    Part part;
    std::size_t offset;
    std::size_t width;
  };
  std::vector<Slot> slots_;
  RegionLevel level_;
  std::size_t total_ = 0;
};

}  // namespace pearl::jobs
