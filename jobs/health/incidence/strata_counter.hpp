// jobs/health/incidence/strata_counter.hpp — health.incidence's map: cases counted per
// stratum (region, disease, sex, year, age group) inside the map, handed to the engine
// as one pair per stratum instead of one per case.
//
// Why: a case is one increment, and the engine's per-pair path (hash a 40-byte key with
// a 32-byte disease, probe, fold) cost more than reading the case. Here each row becomes
// integers — the key fields packed into one word and the disease in another (its bytes
// when short, else a local code: local_counts.hpp) — counted in a table that stays small
// (strata, not cases).
// The counts go to the engine with their full keys when the rank's last batch is done
// (finish), or earlier whenever the table or the disease dictionary reaches kFlushAt
// entries, so memory stays bounded whatever the input.
//
//   StrataCounter map(StrataCounter::Plan{where, level, true, true, false, true});
//   auto strata = engine.reduce_by_key<CaseKey, std::int64_t>(cases, map, std::plus<>{});
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>

#include "../local_counts.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs {

constexpr std::size_t kAgeGroups = 18;
/// Longest disease code kept in a key. ICD-10 codes are at most 7 bytes; 32 leaves room
/// for local codes and UTF-8 names. Longer values are an input error, never truncated.
constexpr std::size_t kDiseaseBytes = 32;
using Disease = FixedString<kDiseaseBytes>;
/// (region_code, disease, sex, year, age group): a stratum; components not in --by are zero.
using CaseKey = std::tuple<std::uint32_t, Disease, std::uint8_t, std::uint16_t, std::uint8_t>;

class StrataCounter : public CountingMap<StrataCounter> {
 public:
  /// What the map reads: the columns in --by and where they come from (for messages).
  struct Plan {
    std::string where;
    RegionLevel level = RegionLevel::city;
    bool by_region = false, by_disease = false, by_sex = false, by_year = false;
  };

  explicit StrataCounter(Plan plan) : plan_(std::move(plan)) {}
  // The engine copies the map once per thread before any batch: each copy counts alone.
  StrataCounter(const StrataCounter& other) : CountingMap(other), plan_(other.plan_) {}
  StrataCounter& operator=(const StrataCounter&) = delete;

  template <class Emit>
  void operator()(const TableBatch& b, Emit& emit) {
    const auto age = b.column<std::uint8_t>("age_years");
    const auto onset = b.column<std::int32_t>("onset_day");
    const auto region = column_if<std::uint32_t>(b, plan_.by_region, "region_code");
    const auto sex = column_if<std::uint8_t>(b, plan_.by_sex, "sex");
    const auto disease = column_if<std::string>(b, plan_.by_disease, "disease");
    for (std::size_t i = 0; i < b.rows(); ++i) {
      // The year is only computed (and range-checked) when it is a key: without it the
      // population is summed over all its years.
      std::uint64_t year = 0;
      if (plan_.by_year) {
        const std::int64_t y = civil_from_days(onset[i]).year;
        if (y < 1 || y > 65535) {
          throw InputError(plan_.where + ": column 'onset_day' has " + std::to_string(onset[i]) + " (row " +
                           std::to_string(b.first_row() + i) + "), year " + std::to_string(y) + " is outside 1..65535");
        }
        year = static_cast<std::uint64_t>(y);
      }
      const std::uint64_t group = std::min<std::uint64_t>(age[i] / 5U, kAgeGroups - 1);
      const std::uint64_t code = plan_.by_region ? region_at(plan_.level, region[i]) : 0U;
      // A stratum as counted here: region << 32 | year << 16 | sex << 8 | age group, and
      // the disease.
      counts_.add(code << 32U | year << 16U | (plan_.by_sex ? std::uint64_t{sex[i]} : 0U) << 8U | group,
                  plan_.by_disease ? std::string_view(disease[i]) : std::string_view(), 0);
      if (counts_.full(kFlushAt)) [[unlikely]]
        flush(emit);
    }
  }


 private:
  friend CountingMap;  // calls flush
  /// Counted strata (and disease codes) at most, before they are handed to the engine.
  static constexpr std::size_t kFlushAt = std::size_t{1} << 16U;

  template <class Emit>
  void flush(Emit& emit) {
    counts_.drain([&](std::uint64_t k, std::string_view disease, std::uint32_t, std::int64_t n) {
      emit(CaseKey{static_cast<std::uint32_t>(k >> 32U), Disease(disease), static_cast<std::uint8_t>(k >> 8U),
                   static_cast<std::uint16_t>(k >> 16U), static_cast<std::uint8_t>(k)},
           n);
    });
  }

  Plan plan_;
};

}  // namespace pearl::jobs
