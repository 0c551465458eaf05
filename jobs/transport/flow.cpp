// transport.flow — traffic flow and congestion per grid cell and time slot from GPS pings
// (contract: docs/contracts/jobs.md, docs/jobs/transport.flow.md).
//
//   pearl run transport.flow --input gps='data/gps-*.h5' --output flow.h5
//       [--cell-meters 500] [--slot-minutes 15] [--bounds 113.6,22.4,114.8,22.9] [--max-speed 120]
//
// Dataflow, two grouping passes:
//   1. group_by_key(vehicle → (time, global row, cell, slot, speed), sorted): cleaning by
//      bounds and speed happens in the map; a vehicle's pings arrive in (time, row) order,
//      so the repeats of a (vehicle, time) are a run whose first is "the first in input
//      order" among the pings that survived cleaning, as the contract orders. No hash
//      table of 4M (vehicle, time) keys: the de-duplication is a walk over sorted runs.
//   2. group_by_key_in_ranges(cell → (slot_start, vehicle, speed), sorted), its map
//      reading the vehicle groups (GroupBatches) and keeping the first ping of each
//      (vehicle, time): all clean pings of a cell on one rank, so the free-flow speed
//      (type-7 85th percentile) is exact, and within the sorted cell the slots, their
//      distinct vehicles and their speeds are runs. Cells are owned by range (splitters
//      from a sample of the clean pings), not hash: rank r's cells all precede rank
//      r+1's.
//   3. A rank's cells arrive in key order, so its per-(cell, slot) rows are sorted
//      already, and the ranks' parts, written in rank order, concatenate in (col, row,
//      slot_start) order: no sort afterwards. The table keeps a bounded round of rows in
//      memory, the rest on scratch until the write (OutputTable::spill_past).
#include <algorithm>
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "pearl/job.hpp"
#include "transport_util.hpp"

namespace pearl::jobs::transport {
namespace {

/// TransBigData's Earth radius (metres), which its grid parameters use.
constexpr double kEarthRadius = 6371004.0;

/// A clean ping in its vehicle's group. Ordered by (time, row) only: rows are unique, so
/// this is a total order, and a vehicle's pings at one time are a run in input order.
struct Fix {
  std::int64_t time = 0;
  std::uint64_t row = 0;  // global input row: shards in path order, then rows as stored
  std::int32_t col = 0, grow = 0;
  double speed = 0;

  std::strong_ordering operator<=>(const Fix& o) const noexcept {
    if (auto c = time <=> o.time; c != 0) return c;
    return row <=> o.row;
  }
  bool operator==(const Fix& o) const noexcept { return time == o.time && row == o.row; }
  [[nodiscard]] std::uint64_t sort_prefix() const noexcept { return ordered_bits(time); }
};

/// A grid cell packed in one integer key whose order is (col, row): each index with its
/// sign bit flipped (so int32 order becomes uint32 order), col in the high half. One
/// integer comparison instead of two in the cell pass's sort.
struct Cell {
  std::int32_t col = 0, row = 0;

  [[nodiscard]] std::uint64_t key() const noexcept {
    return std::uint64_t{static_cast<std::uint32_t>(col) ^ 0x80000000u} << 32 |
           (static_cast<std::uint32_t>(row) ^ 0x80000000u);
  }
  static Cell of(std::uint64_t key) noexcept {
    return {static_cast<std::int32_t>(static_cast<std::uint32_t>(key >> 32) ^ 0x80000000u),
            static_cast<std::int32_t>(static_cast<std::uint32_t>(key) ^ 0x80000000u)};
  }
};

/// A ping inside its cell; the default order makes slots, then vehicles, runs.
struct Obs {
  std::int64_t slot = 0;
  std::uint64_t vehicle = 0;
  double speed = 0;
  auto operator<=>(const Obs&) const = default;
  /// The slot as an unsigned integer in the same order: a cell's thousands of pings are
  /// radix-sorted by slot, and only each slot's few compared (GroupOptions::sort_values).
  [[nodiscard]] std::uint64_t sort_prefix() const noexcept { return ordered_bits(slot); }
};

struct FlowKey {
  std::int32_t col = 0, row = 0;
  std::int64_t slot = 0;
  auto operator<=>(const FlowKey&) const = default;
};
static_assert(KeyRecord<FlowKey>);

struct FlowStats {
  std::int64_t pings = 0, vehicles = 0;
  double mean = 0, tti = 0;
  std::uint64_t level = 0;
};

/// GB/T 33171 arterial-road bands on the mean speed (km/h): 1 free … 5 heavy congestion.
std::uint8_t level_of(double mean_speed) {
  if (mean_speed > 40) return 1;
  if (mean_speed > 30) return 2;
  if (mean_speed > 20) return 3;
  if (mean_speed > 15) return 4;
  return 5;
}

class Flow final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "transport.flow"; }
  [[nodiscard]] std::string summary() const override {
    return "traffic flow and congestion (pings, vehicles, mean speed, TTI, GB/T 33171 level) per grid cell and slot";
  }

  void declare(JobSpec& spec) override {
    // speed_kmh is read as float64: float32 (the contract type) and float64 both convert.
    spec.input("gps", "vehicle GPS pings (tables.md: gps); occupied is not read",
               {{"vehicle_id", DType::u64}, {"time", DType::i64}, {"lon", DType::f64}, {"lat", DType::f64},
                {"speed_kmh", DType::f64}});
    spec.option("cell-meters", &cell_meters_, 500, "grid cell size in metres (TransBigData grid)").positive();
    spec.option("slot-minutes", &slot_minutes_, 15, "time slot length in minutes").in_range(1, 10080);
    spec.option("bounds", &bounds_text_, "113.6,22.4,114.8,22.9",
                "lon1,lat1,lon2,lat2: pings outside (bounds inclusive) are dropped; the grid starts at lon1, lat1");
    spec.option("max-speed", &max_speed_, 120, "pings faster than this (km/h), or negative, are dropped").at_least(0.0);
    spec.output("flow", "one row per (col, row, slot_start) with at least one clean ping, ascending",
                {{"col", DType::i32}, {"row", DType::i32}, {"slot_start", DType::i64}, {"pings", DType::i64},
                 {"vehicles", DType::i64}, {"mean_speed", DType::f64}, {"tti", DType::f64}, {"level", DType::u8}});
  }

  void run(JobContext& ctx) override {
    check_options();
    Engine& engine = ctx.engine();
    OutputTable flow = ctx.output_table("flow");
    // The rows can outnumber the pings' share of memory (1.6M rows, 77 MiB, from 175 MiB
    // of pings): past a quarter of the tables' share they wait on scratch for the writer.
    flow.spill_past(ctx.memory().lease("flow output rows", MemoryShare::job_buffer), engine.options().scratch);
    cell_slot_rows(ctx, [&](const FlowKey& key, const FlowStats& stats) { append(flow, key, stats); });
    ctx.write(std::move(flow));
  }

 private:
  static void append(OutputTable& flow, const FlowKey& k, const FlowStats& s) {
    flow.append(k.col, k.row, k.slot, s.pings, s.vehicles, s.mean, s.tti, static_cast<std::uint8_t>(s.level));
  }

  /// The ranks' cell ranges: cells of every 256th clean ping this rank holds grouped by
  /// vehicle, agreed over the ranks, so ranges get about equal numbers of pings.
  static std::vector<std::uint64_t> cell_splitters(Engine& engine, const GroupedResult<std::uint64_t, Fix>& by_vehicle) {
    std::vector<std::uint64_t> sample;
    if (engine.ranks() > 1) {
      GroupedResult<std::uint64_t, Fix>::Cursor at(by_vehicle);
      std::pair<std::uint64_t, Fix> p;
      for (std::size_t i = 0; at.next(p); ++i) {
        if (i % 256 == 0) sample.push_back(Cell{p.second.col, p.second.grow}.key());
      }
    }
    return engine.agree_splitters(sample);
  }

  /// Passes 1-2: the clean pings, grouped by vehicle and de-duplicated, then grouped by
  /// cell; `out(key, stats)` gets one row per (cell, slot), in key order on this rank.
  template <class Out>
  void cell_slot_rows(JobContext& ctx, Out&& out) const {
    Engine& engine = ctx.engine();
    const double lon1 = bounds_[0], lat1 = bounds_[1], lon2 = bounds_[2], lat2 = bounds_[3];
    // TransBigData area_to_params, written as the contract does (the golden test's
    // reference evaluates the same expressions, so cell edges agree bit for bit).
    const double dlat = cell_meters_ * 360 / (2 * std::numbers::pi * kEarthRadius);
    const double dlon = cell_meters_ * 360 / (2 * std::numbers::pi * kEarthRadius * std::cos((lat1 + lat2) * std::numbers::pi / 360));
    const double lon0 = lon1 - dlon / 2, lat0 = lat1 - dlat / 2;
    const std::int64_t slot_seconds = slot_minutes_ * 60;
    const double max_speed = max_speed_;

    // The vehicle groups live in this lambda only: released once the cell pass has read them.
    const auto by_cell = [&] {
      // 1. Clean (bounds, speed) in the map; a vehicle's pings together, by (time, row).
      TableInput gps = ctx.input("gps");
      const auto by_vehicle = engine.group_by_key<std::uint64_t, Fix>(
          gps,
          [=](const TableBatch& b, auto& emit) {
            const auto vehicle = b.column<std::uint64_t>("vehicle_id");
            const auto time = b.column<std::int64_t>("time");
            const auto lon = b.column<double>("lon");
            const auto lat = b.column<double>("lat");
            const auto speed = b.column<double>("speed_kmh");
            for (std::size_t i = 0; i < b.rows(); ++i) {
              // Written so that NaN positions and speeds fail the test and are dropped.
              if (!(lon[i] >= lon1 && lon[i] <= lon2 && lat[i] >= lat1 && lat[i] <= lat2)) continue;
              if (!(speed[i] >= 0 && speed[i] <= max_speed)) continue;
              Fix f;
              f.time = time[i];
              f.row = b.first_row() + i;
              f.col = static_cast<std::int32_t>(std::floor((lon[i] - lon0) / dlon));
              f.grow = static_cast<std::int32_t>(std::floor((lat[i] - lat0) / dlat));
              f.speed = speed[i];
              emit(vehicle[i], f);
            }
          },
          GroupOptions{.sort_values = true});

      // 2. The first of each (vehicle, time) run survives, filed under its cell; a cell's
      // clean pings together, sorted by (slot, vehicle, speed). The map reads the vehicle
      // groups themselves (whole in each batch), not a copy of the clean pings.
      const std::vector<std::uint64_t> splitters = cell_splitters(engine, by_vehicle);
      GroupBatches<std::uint64_t, Fix> vehicles(by_vehicle);
      return engine.group_by_key_in_ranges<std::uint64_t, Obs>(
          vehicles,
          [slot_seconds](const std::vector<std::pair<std::uint64_t, Fix>>& batch, auto& emit) {
            for (std::size_t i = 0; i < batch.size(); ++i) {
              const auto& [vehicle, f] = batch[i];
              if (i > 0 && batch[i - 1].first == vehicle && batch[i - 1].second.time == f.time) continue;
              emit(Cell{f.col, f.grow}.key(), Obs{f.time - floor_mod(f.time, slot_seconds), vehicle, f.speed});
            }
          },
          splitters, GroupOptions{.sort_values = true});
    }();

    std::vector<double> speeds;
    by_cell.for_each_group([&](std::uint64_t cell_key, std::span<const Obs> obs) {
      const Cell cell = Cell::of(cell_key);
      speeds.resize(obs.size());
      for (std::size_t i = 0; i < obs.size(); ++i) speeds[i] = obs[i].speed;
      const double free_flow = quantile7_unsorted(speeds, 0.85);
      for (std::size_t i = 0; i < obs.size();) {
        const std::int64_t slot = obs[i].slot;
        FlowStats s;
        double sum = 0;
        for (; i < obs.size() && obs[i].slot == slot; ++i) {
          if (s.pings == 0 || obs[i].vehicle != obs[i - 1].vehicle) ++s.vehicles;
          ++s.pings;
          sum += obs[i].speed;
        }
        s.mean = sum / static_cast<double>(s.pings);
        s.tti = s.mean == 0 ? std::numeric_limits<double>::quiet_NaN() : free_flow / s.mean;
        s.level = level_of(s.mean);
        out(FlowKey{cell.col, cell.row, slot}, s);
      }
    });
  }

  void check_options() {
    const std::string job = name();
    const std::string bad = job + ": --bounds '" + bounds_text_ + "' ";
    const std::vector<double> v = parse_numbers("bounds", bounds_text_, 4);  // lon1,lat1,lon2,lat2
    if (!(v[0] < v[2]) || !(v[1] < v[3])) throw InputError(bad + "needs lon1 < lon2 and lat1 < lat2");
    if (v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90) {
      throw InputError(bad + "is outside -180..180 (longitude), -90..90 (latitude)");
    }
    for (std::size_t i = 0; i < 4; ++i) bounds_[i] = v[i];
    // Cell indices are int32: refuse grids that would not fit.
    const double dlat = cell_meters_ * 360 / (2 * std::numbers::pi * kEarthRadius);
    const double dlon = dlat / std::cos((v[1] + v[3]) * std::numbers::pi / 360);
    if ((v[2] - v[0]) / dlon > 1e9 || (v[3] - v[1]) / dlat > 1e9) {
      throw InputError(job + ": --cell-meters " + std::to_string(cell_meters_) + " is too small for --bounds (over 1e9 cells per side)");
    }
  }

  double cell_meters_ = 500;
  std::int64_t slot_minutes_ = 15;
  std::string bounds_text_;
  double max_speed_ = 120;
  double bounds_[4] = {};
};

}  // namespace
PEARL_REGISTER_JOB(Flow);
}  // namespace pearl::jobs::transport
