// jobs/health/outbreak/day_counter.hpp — health.outbreak's first map: cases counted per
// (series, day) inside the map, handed to the engine as one pair per series and day
// instead of one per case, from a single read of the cases.
//
// Why: the series key is sized by the longest disease in the input (series_key.hpp),
// which the job used to measure with a whole extra pass over the disease strings. Here
// the map keys its own counts with integers — region and sex packed in one word, the
// disease in another (its bytes when short, else a local code) and the day
// (local_counts.hpp) — and emits them with the disease in a FixedString wide enough for
// any disease a series key can hold (kWideDisease); the job sizes the key from the
// longest disease in the result (disease_bytes). A disease too long for any key is
// refused by the map, with the message the job gave after its measuring pass. Counts go
// to the engine at the rank's last batch (finish) or whenever the table or the
// dictionary reaches kFlushAt entries, so memory stays bounded (25 MiB) whatever the input.
//
//   DayCounter map({level, true, true, false, "onset_day"});
//   auto counts = engine.reduce_by_key<SeriesDay, std::int64_t>(cases, map, std::plus<>{});
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>

#include "../local_counts.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs {

/// The widest disease a series key holds: the key is at most 64 bytes (--by disease alone).
constexpr std::size_t kWideDisease = 64;
/// (region at --region-level, sex, disease, day); components not in --by are zero.
using SeriesDay = std::tuple<std::uint32_t, std::uint8_t, FixedString<kWideDisease>, std::int32_t>;

class DayCounter : public CountingMap<DayCounter> {
 public:
  struct Plan {
    RegionLevel level = RegionLevel::city;
    bool by_region = false, by_sex = false, by_disease = false;
    std::string date;  // the day column
  };

  explicit DayCounter(Plan plan) : plan_(std::move(plan)) {}
  // The engine copies the map once per thread before any batch: each copy counts alone.
  DayCounter(const DayCounter& other) : CountingMap(other), plan_(other.plan_) {}
  DayCounter& operator=(const DayCounter&) = delete;

  template <class Emit>
  void operator()(const TableBatch& b, Emit& emit) {
    const auto day = b.column<std::int32_t>(plan_.date);
    const auto region = column_if<std::uint32_t>(b, plan_.by_region, "region_code");
    const auto sex = column_if<std::uint8_t>(b, plan_.by_sex, "sex");
    const auto disease = column_if<std::string>(b, plan_.by_disease, "disease");
    for (std::size_t i = 0; i < b.rows(); ++i) {
      // (region << 8 | sex, disease, the day's 32 bits).
      const std::uint64_t r = plan_.by_region ? region_at(plan_.level, region[i]) : 0U;
      if (plan_.by_disease && disease[i].size() > widest()) [[unlikely]]
        too_long(disease[i].size());
      counts_.add(r << 8U | (plan_.by_sex ? sex[i] : 0U),
                  plan_.by_disease ? std::string_view(disease[i]) : std::string_view(),
                  static_cast<std::uint32_t>(day[i]));
      if (counts_.full(kFlushAt)) [[unlikely]]
        flush(emit);
    }
  }


  /// The message of a disease too long for the series key (64 bytes in all).
  [[noreturn]] static void too_long(std::size_t bytes) {
    throw InputError("health.outbreak: disease codes of " + std::to_string(bytes) +
                     " bytes are too long for a series key (at most 59)");
  }

 private:
  friend CountingMap;  // calls flush
  /// Series-days counted (and disease codes) at most before they go to the engine: a
  /// few years of daily counts for a few hundred series fit, so each reaches the engine
  /// once per rank. The table then holds at most 2^20 slots of 25 bytes (25 MiB).
  static constexpr std::size_t kFlushAt = std::size_t{1} << 19U;

  template <class Emit>
  void flush(Emit& emit) {
    counts_.drain([&](std::uint64_t k, std::string_view disease, std::uint32_t day, std::int64_t n) {
      emit(SeriesDay{static_cast<std::uint32_t>(k >> 8U), static_cast<std::uint8_t>(k),
                     FixedString<kWideDisease>(disease), static_cast<std::int32_t>(day)},
           n);
    });
  }

  /// Bytes the disease may have: what a 64-byte key leaves beside region and sex.
  [[nodiscard]] std::size_t widest() const noexcept {
    return kWideDisease - (plan_.by_region ? 4U : 0U) - (plan_.by_sex ? 1U : 0U);
  }

  Plan plan_;
};

/// The disease's bytes as a key holds them: up to its last non-zero byte (zero bytes
/// after it would be the key's padding anyway).
inline std::string_view disease_bytes(const FixedString<kWideDisease>& d) noexcept {
  std::size_t n = d.bytes.size();
  while (n > 0 && d.bytes[n - 1] == '\0') --n;
  return {d.bytes.data(), n};
}

}  // namespace pearl::jobs
