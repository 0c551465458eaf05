#include "series_key.hpp"

#include <algorithm>
#include <cstring>

#include "pearl/job.hpp"

namespace pearl::jobs {

SeriesKey::SeriesKey(const std::vector<std::string>& by, RegionLevel level, std::size_t disease_width)
    : level_(level) {
  for (const auto& b : by) {
    const Part p = b == "region" ? Part::region : b == "disease" ? Part::disease : Part::sex;
    // At least one byte for disease, so an input of only empty strings still has a slot.
    const std::size_t width = p == Part::region ? 4 : p == Part::sex ? 1 : std::max<std::size_t>(1, disease_width);
    slots_.push_back({p, total_, width});
    total_ += width;
  }
}

std::vector<ColumnSpec> SeriesKey::input_columns() const {
  std::vector<ColumnSpec> out;
  for (const auto& s : slots_) {
    switch (s.part) {
      case Part::region: out.push_back({"region_code", DType::u32}); break;
      case Part::disease: out.push_back({"disease", DType::str}); break;
      case Part::sex: out.push_back({"sex", DType::u8}); break;
    }
  }
  return out;
}

void SeriesKey::encode(std::uint32_t region, std::uint8_t sex, std::string_view disease, unsigned char* key) const {
  for (const Slot& s : slots_) {
    unsigned char* at = key + s.offset;
    switch (s.part) {
      case Part::region:
        at[0] = static_cast<unsigned char>(region >> 24);
        at[1] = static_cast<unsigned char>(region >> 16);
        at[2] = static_cast<unsigned char>(region >> 8);
        at[3] = static_cast<unsigned char>(region);
        break;
      case Part::sex: at[0] = sex; break;
      case Part::disease:
        if (disease.size() > s.width) throw Error("health.outbreak: disease " + quote_value(disease) + " is longer than measured");
        std::memcpy(at, disease.data(), disease.size());
        break;
    }
  }
}

void SeriesKey::decode(const unsigned char* key, OutputTable& out) const {
  for (std::size_t c = 0; c < slots_.size(); ++c) {
    const Slot& s = slots_[c];
    const unsigned char* at = key + s.offset;
    switch (s.part) {
      case Part::region:
        out.column<std::uint32_t>(c).push_back(static_cast<std::uint32_t>(at[0]) << 24 |
                                               static_cast<std::uint32_t>(at[1]) << 16 |
                                               static_cast<std::uint32_t>(at[2]) << 8 | at[3]);
        break;
      case Part::sex: out.column<std::uint8_t>(c).push_back(at[0]); break;
      case Part::disease: {
        const auto* end = std::find(at, at + s.width, 0);
        out.column<std::string>(c).emplace_back(reinterpret_cast<const char*>(at), static_cast<std::size_t>(end - at));
        break;
      }
    }
  }
}

}  // namespace pearl::jobs
