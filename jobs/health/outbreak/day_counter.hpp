// jobs/health/outbreak/day_counter.hpp — health.outbreak's first map: cases counted per
// (series, day) inside the map, handed to the engine as one pair per series and day
// instead of one per case, from a single read of the cases.
//
// Why: the series key is sized by the longest disease in the input (series_key.hpp),
// which the job used to measure with a whole extra pass over the disease strings. Here
// the map keys its own counts with integers — region and sex packed in one word, the
// disease as a local code and the day in the other (local_counts.hpp) — notes the
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
    std::string date;                                 // the day column
    std::shared_ptr<std::atomic<std::size_t>> longest;  // bytes of the longest disease, over map threads
  };

  explicit DayCounter(Plan plan) : plan_(std::move(plan)) {}
  // The engine copies the map once per thread before any batch: each copy counts alone.
  DayCounter(const DayCounter& other) : plan_(other.plan_) {}
  DayCounter& operator=(const DayCounter&) = delete;

  template <class Emit>
  void operator()(const TableBatch& b, Emit& emit) {
    const auto day = b.column<std::int32_t>(plan_.date);
    const std::span<const std::uint32_t> region =
        plan_.by_region ? b.column<std::uint32_t>("region_code") : std::span<const std::uint32_t>{};
    const std::span<const std::uint8_t> sex = plan_.by_sex ? b.column<std::uint8_t>("sex") : std::span<const std::uint8_t>{};
    const std::span<const std::string> disease =
        plan_.by_disease ? b.column<std::string>("disease") : std::span<const std::string>{};
    for (std::size_t i = 0; i < b.rows(); ++i) {
      // region << 8 | sex, and the disease's code << 32 | the day's 32 bits.
      const std::uint64_t r = plan_.by_region ? region_at(plan_.level, region[i]) : 0U;
      const std::uint64_t code = plan_.by_disease ? diseases_.code(disease[i]) : 0U;
      counts_.add({r << 8U | (plan_.by_sex ? sex[i] : 0U), code << 32U | static_cast<std::uint32_t>(day[i])});
      if (counts_.size() >= kFlushAt || diseases_.size() >= kFlushAt) [[unlikely]] flush(emit);
    }
  }

  template <class Emit>
  void finish(Emit& emit) {
    flush(emit);
    std::size_t seen = plan_.longest->load();
    while (seen < diseases_.longest() && !plan_.longest->compare_exchange_weak(seen, diseases_.longest())) {
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
    counts_.drain([&](const TwoWords& k, std::int64_t n) {
      const std::string_view d = plan_.by_disease ? diseases_.value(static_cast<std::uint32_t>(k.b >> 32U)) : "";
      if (d.size() > kWideDisease) return;  // refused by the job once the pass is over
      emit(SeriesDay{static_cast<std::uint32_t>(k.a >> 8U), static_cast<std::uint8_t>(k.a),
                     FixedString<kWideDisease>(d), static_cast<std::int32_t>(static_cast<std::uint32_t>(k.b))},
           n);
    });
    diseases_.clear();
  }

  Plan plan_;
  LocalCounts counts_;
  StringCodes diseases_;
};

}  // namespace pearl::jobs
