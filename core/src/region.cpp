#include "pearl/core/region.hpp"

namespace pearl {

const char* region_level_name(RegionLevel level) noexcept {
  switch (level) {
    case RegionLevel::county: return "county";
    case RegionLevel::city: return "city";
    case RegionLevel::province: return "province";
  }
  return "?";
}

void RegionLevelOption::declare(JobSpec& spec) {
  spec.option("region-level", &text_, "city", "region grouping: county, city or province (GB/T 2260 code truncated)");
}

RegionLevel RegionLevelOption::parse() const {
  for (const auto level : {RegionLevel::county, RegionLevel::city, RegionLevel::province}) {
    if (text_ == region_level_name(level)) return level;
  }
  throw InputError("option --region-level: '" + text_ + "' is not one of: county, city, province");
}

}  // namespace pearl
