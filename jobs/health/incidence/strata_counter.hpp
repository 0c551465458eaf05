// jobs/health/incidence/strata_counter.hpp — health.incidence's map: cases counted per
// stratum (region, disease, sex, year, age group) inside the map, handed to the engine
// as one pair per stratum instead of one per case.
//
// Why: a case is one increment, and the engine's per-pair path (hash a 40-byte key with
// a 32-byte disease, probe, fold) cost more than reading the case. Here each row becomes
// integers — the key fields packed into one word and the disease in another (its bytes
// when short, else a local code: local_counts.hpp) — counted in a table of output rows
// with their 18 age groups side by side (local_row_counts.hpp), which stays in cache.
// The counts go to the engine with their full keys when the rank's last batch is done
// (finish), or earlier whenever the table or the disease dictionary reaches kFlushAt
// entries, so memory stays bounded whatever the input.
//
//   StrataCounter map(StrataCounter::Plan{where, level, true, true, false, true});
//   auto strata = engine.reduce_by_key<CaseKey, std::int64_t>(cases, map, std::plus<>{});
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>

#include "../local_counts.hpp"
#include "../local_row_counts.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs {

constexpr std::size_t kAgeGroups = 18;

/// Longest disease code kept in a key. ICD-10 codes are at most 7 bytes; 32 leaves room
/// for local codes and UTF-8 names. Longer values are an input error, never truncated.
constexpr std::size_t kDiseaseBytes = 32;
using Disease = FixedString<kDiseaseBytes>;
/// (region_code, disease, sex, year, age group): a stratum; components not in --by are zero.
using CaseKey = std::tuple<std::uint32_t, Disease, std::uint8_t, std::uint16_t, std::uint8_t>;

class StrataCounter : public CountingMap<StrataCounter, CodedRowCounts<kAgeGroups>> {
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
      if (plan_.by_year) year = year_of(b, i, onset[i]);
      const std::uint64_t group = std::min<std::uint64_t>(age[i] / 5U, kAgeGroups - 1);
      const std::uint64_t code = plan_.by_region ? region_at(plan_.level, region[i]) : 0U;
      // An output row as counted here: region << 32 | year << 16 | sex << 8, and the
      // disease; the age group picks one of its counts.
      counts_.add(code << 32U | year << 16U | (plan_.by_sex ? std::uint64_t{sex[i]} : 0U) << 8U,
                  plan_.by_disease ? std::string_view(disease[i]) : std::string_view(), group);
      if (counts_.full(kFlushAt)) [[unlikely]]
        flush(emit);
    }
  }


 private:
  friend CountingMap;  // calls flush
  /// Counted rows (and disease codes) at most, before they are handed to the engine.
  static constexpr std::size_t kFlushAt = std::size_t{1} << 14U;

  /// The calendar year of `day` (row i of batch b), checked to fit a key. The days of the
  /// last two years met are remembered: cases fall in a few years, so the date arithmetic
  /// runs for few rows.
  std::uint64_t year_of(const TableBatch& b, std::size_t i, std::int32_t day) {
    if (day >= years_[0].first && day < years_[0].end) return years_[0].year;
    if (day >= years_[1].first && day < years_[1].end) return years_[1].year;
    return new_year(b, i, day);
  }
  [[gnu::noinline]] std::uint64_t new_year(const TableBatch& b, std::size_t i, std::int32_t day) {
    const std::int64_t y = civil_from_days(day).year;
    if (y < 1 || y > 65535) {
      throw InputError(plan_.where + ": column 'onset_day' has " + std::to_string(day) + " (row " +
                       std::to_string(b.first_row() + i) + "), year " + std::to_string(y) + " is outside 1..65535");
    }
    years_[1] = years_[0];
    years_[0] = Year{days_from_civil(y, 1, 1), days_from_civil(y + 1, 1, 1), static_cast<std::uint64_t>(y)};
    return years_[0].year;
  }

  template <class Emit>
  void flush(Emit& emit) {
    counts_.drain([&](std::uint64_t k, std::string_view disease, std::uint32_t group, std::int64_t n) {
      emit(CaseKey{static_cast<std::uint32_t>(k >> 32U), Disease(disease), static_cast<std::uint8_t>(k >> 8U),
                   static_cast<std::uint16_t>(k >> 16U), static_cast<std::uint8_t>(group)},
           n);
    });
  }

  Plan plan_;
  struct Year {
    std::int64_t first = 1, end = 0;  // its days, [first, end); none at first
    std::uint64_t year = 0;
  };
  std::array<Year, 2> years_{};
};

}  // namespace pearl::jobs
