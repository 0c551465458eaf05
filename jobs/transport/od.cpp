// transport.od — origin–destination matrix from smart-card taps
// (contract: docs/contracts/jobs.md, docs/jobs/transport.od.md).
//
//   pearl run transport.od --input taps='data/taps-*.h5' --output od.h5 [--max-trip-minutes 240]
//
// Dataflow, two grouping passes (and a sort at more than one rank):
//   1. group_by_key(card_id → metro taps, values sorted): a card's taps come from any shard
//      and rank; sorted by (tap_time, tap_type, global row), so taps equal in time and type
//      keep input order (what a stable sort of the concatenated shards gives). Bus taps are
//      only counted and never shuffled. Each card's taps are paired on the rank that owns
//      the card; the trips are buffered locally (spilling past a share of the budget).
//   2. group_by_key((origin, destination) packed in one uint64 → (hour, travel seconds),
//      sorted): every trip of an OD pair on one rank, its hours and their travel times as
//      ascending runs, so mean, p50 and p90 are exact (type 7), not sketched. Integer keys
//      and values keep the sort cheap; minutes are seconds / 60, as before.
//   3. OD pairs arrive in key order, so a rank's per-OD-hour rows are sorted already: at one
//      rank they go straight into the table; at more they are kept as they come
//      (SortedResultBuilder) and sort_globally makes rank parts concatenate in key order.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "pearl/job.hpp"
#include "transport_util.hpp"

namespace pearl::jobs::transport {
namespace {

constexpr std::uint8_t kEntry = 1, kExit = 2, kBus = 3;

/// One metro tap as grouped per card. Ordered by (time, type, row): the contract's order,
/// then input order for full ties, so pairing never depends on ranks or spilling.
struct Tap {
  std::int64_t time = 0;
  // tap_type in the top two bits, the global input row number (shards in path order, then
  // rows) below: one comparison orders by type, then input order.
  std::uint64_t type_row = 0;
  std::uint32_t station = 0;
  std::uint8_t pad[4] = {};  // explicit, so no indeterminate bytes travel or spill

  static std::uint64_t pack(std::uint8_t type, std::uint64_t row) noexcept { return std::uint64_t{type} << 62 | row; }
  [[nodiscard]] std::uint8_t type() const noexcept { return static_cast<std::uint8_t>(type_row >> 62); }

  std::strong_ordering operator<=>(const Tap& o) const noexcept {
    if (auto c = time <=> o.time; c != 0) return c;
    return type_row <=> o.type_row;
  }
  bool operator==(const Tap& o) const noexcept { return time == o.time && type_row == o.type_row; }
  [[nodiscard]] std::uint64_t sort_prefix() const noexcept { return ordered_bits(time); }
};

/// An OD pair's key: origin in the high 32 bits, destination in the low ones, so the
/// integer order is the (origin, destination) order.
inline std::uint64_t od_pair(std::uint32_t origin, std::uint32_t destination) noexcept {
  return std::uint64_t{origin} << 32 | destination;
}

/// A trip within its OD pair: local hour of the entry, then travel time in seconds.
struct HourSeconds {
  std::int64_t hour = 0;
  std::int64_t seconds = 0;
  auto operator<=>(const HourSeconds&) const = default;
  /// (hour, seconds) in one integer of the same order: hours are 0-23, and seconds of a
  /// trip are positive and, clamped at 2^40 - 1 (35,000 years), keep their order.
  [[nodiscard]] std::uint64_t sort_prefix() const noexcept {
    constexpr std::int64_t kMaxSeconds = (std::int64_t{1} << 40) - 1;
    return static_cast<std::uint64_t>(hour) << 40 | static_cast<std::uint64_t>(std::clamp<std::int64_t>(seconds, 0, kMaxSeconds));
  }
};

using Trip = std::pair<std::uint64_t, HourSeconds>;

/// An output row's key: (origin, destination, local hour of the entry); uint32 hour, so
/// no padding in a key.
struct OdKey {
  std::uint32_t origin = 0;
  std::uint32_t destination = 0;
  std::uint32_t hour = 0;
  auto operator<=>(const OdKey&) const = default;
};
static_assert(KeyRecord<OdKey>);

struct OdStats {
  std::int64_t trips = 0;
  double mean = 0, p50 = 0, p90 = 0;
};


/// The quality counters; bumped from the map threads (taps, bus_taps) and the pairing.
struct Quality {
  std::atomic<std::int64_t> taps{0}, bus_taps{0};
  std::int64_t trips = 0, orphan_entries = 0, orphan_exits = 0, same_station = 0, too_long = 0;
};

class Od final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "transport.od"; }
  [[nodiscard]] std::string summary() const override {
    return "origin-destination trips per hour from smart-card taps, with travel-time mean, p50, p90";
  }

  void declare(JobSpec& spec) override {
    spec.input("taps", "smart-card taps (tables.md: taps); line_id and fare are not read",
               {{"card_id", DType::u64}, {"tap_time", DType::i64}, {"station_id", DType::u32},
                {"tap_type", DType::u8}});
    spec.option("max-trip-minutes", &max_trip_minutes_, 240,
                "an entry-exit pair longer than this (or with exit time <= entry time) counts as too_long")
        .positive();
    spec.output("od", "trips per (origin, destination, local hour of entry), ascending",
                {{"origin", DType::u32}, {"destination", DType::u32}, {"hour", DType::u8},
                 {"trips", DType::i64}, {"mean_minutes", DType::f64}, {"p50_minutes", DType::f64},
                 {"p90_minutes", DType::f64}});
    spec.output("quality", "one row of counters: what happened to the taps",
                {{"taps", DType::i64}, {"bus_taps", DType::i64}, {"trips", DType::i64},
                 {"orphan_entries", DType::i64}, {"orphan_exits", DType::i64}, {"same_station", DType::i64},
                 {"too_long", DType::i64}});
  }

  void run(JobContext& ctx) override {
    Engine& engine = ctx.engine();
    Quality q;

    // Each pass runs in its own function, so its grouped result (memory and scratch) is
    // released before the next pass takes its share of the budget: at most one grouped
    // result and the buffers between passes are held at once.
    OutputTable od = ctx.output_table("od");
    {
      SortedResultBuilder<OdKey, OdStats> rows(engine.options().scratch, "od-rows",
                                               ctx.memory().lease("od sorted rows", MemoryShare::job_buffer));
      {
        SpillingBuffer<Trip> trips = pair_taps(ctx, q);
        summarise(engine, trips, [&](const OdKey& key, const OdStats& stats) {
          if (engine.ranks() == 1) {
            append(od, key, stats);
          } else {
            rows.push(key, stats);
          }
        });
      }  // the trips are gone before the sort takes its share
      if (engine.ranks() > 1) {
        auto sorted = engine.sort_globally(std::move(rows).finish());  // the unsorted rows go at the ';'
        fill_table(od, std::move(sorted));                             // the sorted ones once in the table
      }
    }

    Communicator& comm = ctx.comm();
    const std::int64_t total[7] = {
        allreduce_sum(comm, q.taps.load()),          allreduce_sum(comm, q.bus_taps.load()),
        allreduce_sum(comm, q.trips),                allreduce_sum(comm, q.orphan_entries),
        allreduce_sum(comm, q.orphan_exits),         allreduce_sum(comm, q.same_station),
        allreduce_sum(comm, q.too_long)};
    OutputTable quality = ctx.output_table("quality");
    if (ctx.is_root()) quality.append(total[0], total[1], total[2], total[3], total[4], total[5], total[6]);
    ctx.write(std::move(od));
    ctx.write(std::move(quality));
    if (ctx.is_root()) {
      ctx.out() << "transport.od: " << total[0] << " taps (" << total[1] << " bus), " << total[2] << " trips, "
                << total[3] << " orphan entries, " << total[4] << " orphan exits, " << total[5]
                << " same-station, " << total[6] << " too long\n";
    }
  }

 private:
  /// 1. Metro taps per card, sorted (group_by_key), paired into trips on the card's rank.
  SpillingBuffer<Trip> pair_taps(JobContext& ctx, Quality& q) const {
    Engine& engine = ctx.engine();
    const std::string where = ctx.input_location("taps");
    TableInput taps = ctx.input("taps");
    const auto by_card = engine.group_by_key<std::uint64_t, Tap>(
        taps,
        [&q, &where](const TableBatch& b, auto& emit) {
          const auto card = b.column<std::uint64_t>("card_id");
          const auto time = b.column<std::int64_t>("tap_time");
          const auto station = b.column<std::uint32_t>("station_id");
          const auto type = b.column<std::uint8_t>("tap_type");
          std::int64_t bus = 0;
          for (std::size_t i = 0; i < b.rows(); ++i) {
            if (type[i] == kBus) {
              ++bus;
              continue;
            }
            if (type[i] != kEntry && type[i] != kExit) {
              throw InputError(where + ": column 'tap_type' is " + std::to_string(type[i]) + " at row " +
                               std::to_string(b.first_row() + i) + "; expected 1 (entry), 2 (exit) or 3 (bus)");
            }
            Tap t;
            t.time = time[i];
            t.type_row = Tap::pack(type[i], b.first_row() + i);
            t.station = station[i];
            emit(card[i], t);
          }
          q.taps += static_cast<std::int64_t>(b.rows());
          q.bus_taps += bus;
        },
        GroupOptions{.sort_values = true});

    // Pairing, card by card, on the rank owning the card. Trips are buffered within an
    // eighth of the budget, beside the grouped taps' share.
    const double max_seconds = max_trip_minutes_ * 60.0;
    SpillingBuffer<Trip> trips(engine.options().scratch, "od-trips", ctx.memory().lease("od trips", MemoryShare::job_buffer));
    by_card.for_each_group([&](std::uint64_t, std::span<const Tap> card) {
      const std::size_t n = card.size();
      for (std::size_t i = 0; i < n;) {
        const Tap& a = card[i];
        if (a.type() == kExit) {  // not consumed by an entry directly before it
          ++q.orphan_exits;
          ++i;
          continue;
        }
        if (i + 1 == n || card[i + 1].type() != kExit) {
          ++q.orphan_entries;
          ++i;
          continue;
        }
        const Tap& b = card[i + 1];
        const std::int64_t dt = b.time - a.time;
        // Contract order: same station first (whatever Δt), then the time window.
        if (a.station == b.station) {
          ++q.same_station;
        } else if (dt <= 0 || static_cast<double>(dt) > max_seconds) {
          ++q.too_long;
        } else {
          ++q.trips;
          const auto hour = static_cast<std::uint32_t>(floor_mod(a.time + 28800, 86400) / 3600);
          trips.push(Trip{od_pair(a.station, b.station), HourSeconds{hour, dt}});
        }
        i += 2;
      }
    });
    return trips;
  }

  static void append(OutputTable& od, const OdKey& k, const OdStats& s) {
    od.append(k.origin, k.destination, static_cast<std::uint8_t>(k.hour), s.trips, s.mean, s.p50, s.p90);
  }

  /// `sorted`, taken by value, is released once copied into the table.
  static void fill_table(OutputTable& od, KeyedResult<OdKey, OdStats> sorted) {  // NOLINT(performance-unnecessary-value-param): by value to release it
    sorted.for_each([&](const OdKey& k, const OdStats& s) { append(od, k, s); });
  }

  /// 2. Every trip of an OD pair together, by (hour, seconds): each hour's travel times are
  /// an ascending run, so its quantiles are exact; `out(key, stats)` gets one row per OD-hour, in
  /// key order on this rank.
  template <class Out>
  static void summarise(Engine& engine, SpillingBuffer<Trip>& trips, Out&& out) {
    const auto by_od = engine.group_by_key<std::uint64_t, HourSeconds>(
        trips,
        [](const std::vector<Trip>& batch, auto& emit) {
          for (const Trip& t : batch) emit(t.first, t.second);
        },
        GroupOptions{.sort_values = true});
    std::vector<double> minutes;
    by_od.for_each_group([&](std::uint64_t od, std::span<const HourSeconds> trips_of_od) {
      for (std::size_t i = 0; i < trips_of_od.size();) {
        const std::int64_t hour = trips_of_od[i].hour;
        minutes.clear();
        double sum = 0;
        for (; i < trips_of_od.size() && trips_of_od[i].hour == hour; ++i) {
          minutes.push_back(static_cast<double>(trips_of_od[i].seconds) / 60.0);
          sum += minutes.back();
        }
        const auto n = static_cast<std::int64_t>(minutes.size());
        const OdKey key{static_cast<std::uint32_t>(od >> 32), static_cast<std::uint32_t>(od), static_cast<std::uint32_t>(hour)};
        out(key, OdStats{n, sum / static_cast<double>(n), quantile7(minutes, 0.5), quantile7(minutes, 0.9)});
      }
    });
  }

  double max_trip_minutes_ = 240;
};

}  // namespace
PEARL_REGISTER_JOB(Od);
}  // namespace pearl::jobs::transport
