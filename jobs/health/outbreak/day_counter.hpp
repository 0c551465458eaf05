// jobs/health/outbreak/day_counter.hpp — health.outbreak's first map: cases counted per
// (series, day) inside the map, handed to the engine as one pair per series and day
// instead of one per case, from a single read of the cases.
//
// Why: the series key is sized by the longest disease in the input (series_key.hpp),
// which the job used to measure with a whole extra pass over the disease strings. Here
// the map keys its own counts with integers — region and sex packed in one word, the
// disease in another (its bytes when short, else a local code) and the day
// (local_counts.hpp) — notes the
// longest disease it saw, and emits the counts with the disease in a FixedString wide
// enough for any disease a series key can hold (kWideDisease). Longer diseases are not
// emitted; the job refuses them after this pass, as before, from the longest seen.
// Counts go to the engine at the rank's last batch (finish) or whenever the table or the
// dictionary reaches kFlushAt entries, so memory stays bounded (25 MiB) whatever the input.
//
//   auto longest = std::make_shared<std::atomic<std::size_t>>(0);
//   DayCounter map({level, true, true, false, "onset_day", longest});
//   auto counts = engine.reduce_by_key<SeriesDay, std::int64_t>(cases, map, std::plus<>{});
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>

#include "../local_counts.hpp"
#include "pearl/core/job.hpp"
#include "pearl/core/region.hpp"

namespace pearl::jobs {

/// The widest disease a series key holds: the key is at most 64 bytes (--by disease alone).
constexpr std::size_t kWideDisease = 64;
/// (region at --region-level, sex, disease, day); components not in --by are zero.
using SeriesDay = std::tuple<std::uint32_t, std::uint8_t, FixedString<kWideDisease>, std::int32_t>;

class DayCounter {
 public:
  struct Plan {
    RegionLevel level = RegionLevel::city;
    bool by_region = false, by_sex = false, by_disease = false;
    std::string date;                                   // the day column
    std::shared_ptr<std::atomic<std::size_t>> longest;  // bytes of the longest disease, over map threads
  };

  explicit DayCounter(Plan plan) : plan_(std::move(plan)) {}
  // The engine copies the map once per thread before any batch: each copy counts alone.
  DayCounter(const DayCounter& other) : plan_(other.plan_) {}
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
      counts_.add(r << 8U | (plan_.by_sex ? sex[i] : 0U),
                  plan_.by_disease ? std::string_view(disease[i]) : std::string_view(),
                  static_cast<std::uint32_t>(day[i]));
      if (counts_.full(kFlushAt)) [[unlikely]]
        flush(emit);
    }
  }

  template <class Emit>
  void finish(Emit& emit) {
    flush(emit);
    std::size_t seen = plan_.longest->load();
    while (seen < counts_.longest() && !plan_.longest->compare_exchange_weak(seen, counts_.longest())) {
    }
  }
  /// The longest disease is state the job reads after the operation: an operation saved
  /// in a checkpoint would come back without it, so it is always run again on resume.
  [[nodiscard]] static bool keeps_state_after_finish() noexcept { return true; }

 private:
  /// Series-days counted (and disease codes) at most before they go to the engine: a
  /// few years of daily counts for a few hundred series fit, so each reaches the engine
  /// once per rank. The table then holds at most 2^20 slots of 25 bytes (25 MiB).
  static constexpr std::size_t kFlushAt = std::size_t{1} << 19U;

  template <class Emit>
  void flush(Emit& emit) {
    counts_.drain([&](std::uint64_t k, std::string_view disease, std::uint32_t day, std::int64_t n) {
      if (disease.size() > kWideDisease) return;  // refused by the job once the pass is over
      emit(SeriesDay{static_cast<std::uint32_t>(k >> 8U), static_cast<std::uint8_t>(k),
                     FixedString<kWideDisease>(disease), static_cast<std::int32_t>(day)},
           n);
    });
  }

  Plan plan_;
  CodedCounts counts_;
};

}  // namespace pearl::jobs
