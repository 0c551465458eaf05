// pearl/core/region.hpp — `--region-level`: grouping GB/T 2260 region codes.
//
// Wherever `region` is a key, jobs take `--region-level county|city|province` (default
// city) and publish `region_code` at that level (contract: tables.md, jobs.md):
// county 440106 → city 440100 → province 440000.
//
//   pearl::RegionLevelOption region_level;          // a job member
//   region_level.declare(spec);                     // in declare(): adds --region-level
//   const auto level = region_level.parse();        // in run(): throws InputError if bad
//   emit(pearl::region_at(level, code), ...);
#pragma once

#include <cstdint>
#include <string>

#include "pearl/core/job.hpp"

namespace pearl {

enum class RegionLevel : std::uint8_t { county, city, province };

/// The code of the region of `level` that contains county-level (or coarser) `code`.
constexpr std::uint32_t region_at(RegionLevel level, std::uint32_t code) noexcept {
  switch (level) {
    case RegionLevel::county: return code;
    case RegionLevel::city: return code / 100 * 100;
    case RegionLevel::province: return code / 10000 * 10000;
  }
  return code;
}

/// "county", "city", "province".
const char* region_level_name(RegionLevel level) noexcept;

/// The `--region-level` option of a job.
class RegionLevelOption {
 public:
  /// Adds `--region-level` (default city) to the job's options.
  void declare(JobSpec& spec);
  /// The parsed level; throws InputError naming the option for anything else.
  [[nodiscard]] RegionLevel parse() const;
  /// The option's text as given (for messages).
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

 private:
  std::string text_ = "city";
};

}  // namespace pearl
