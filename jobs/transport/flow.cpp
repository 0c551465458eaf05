// transport.flow — traffic flow and congestion per grid cell and time slot from GPS pings
// (contract: docs/contracts/jobs.md, docs/jobs/transport.flow.md).
//
//   pearl run transport.flow --input gps='data/gps-*.h5' --output flow.h5
//       [--cell-meters 500] [--slot-minutes 15] [--bounds 113.6,22.4,114.8,22.9] [--max-speed 120]
//
// Dataflow, four engine passes:
//   1. reduce_by_key((vehicle_id, time) → the ping with the smallest global row): cleaning
//      by bounds and speed happens in the map, so "the first repeated ping in input order"
//      is the first among the pings that survived those two steps, as the contract orders.
//   2. group_by_key(cell → (slot_start, vehicle, speed), sorted): all clean pings of a cell
//      on one rank, so the free-flow speed (type-7 85th percentile) is exact, and within
//      the sorted cell the slots, their distinct vehicles and their speeds are runs.
//   3. the per-(cell, slot) rows, reduced (locally: keys are unique) and
//   4. sort_globally, so the ranks' parts concatenate in (col, row, slot_start) order.
#include <algorithm>
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "pearl/core/job.hpp"
#include "transport_util.hpp"

namespace pearl::jobs::transport {
namespace {

/// TransBigData's Earth radius (metres), which its grid parameters use.
constexpr double kEarthRadius = 6371004.0;

struct VehicleTime {
  std::uint64_t vehicle = 0;
  std::int64_t time = 0;
  auto operator<=>(const VehicleTime&) const = default;
};
static_assert(KeyRecord<VehicleTime>);

/// A clean ping, as kept by the de-duplication (smallest row wins).
struct Ping {
  std::uint64_t row = 0;  // global input row: shards in path order, then rows as stored
  std::int64_t slot = 0;
  std::int32_t col = 0, grow = 0;
  double speed = 0;
};

struct Cell {
  std::int32_t col = 0, row = 0;
  auto operator<=>(const Cell&) const = default;
};
static_assert(KeyRecord<Cell>);

/// A ping inside its cell; the default order makes slots, then vehicles, runs.
struct Obs {
  std::int64_t slot = 0;
  std::uint64_t vehicle = 0;
  double speed = 0;
  auto operator<=>(const Obs&) const = default;
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

struct FlowRow {
  FlowKey key;
  FlowStats stats;
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
    spec.options().add_options()
        ("cell-meters", po::value(&cell_meters_)->default_value(500), "grid cell size in metres (TransBigData grid)")
        ("slot-minutes", po::value(&slot_minutes_)->default_value(15), "time slot length in minutes")
        ("bounds", po::value(&bounds_text_)->default_value("113.6,22.4,114.8,22.9"),
         "lon1,lat1,lon2,lat2: pings outside (bounds inclusive) are dropped; the grid starts at lon1, lat1")
        ("max-speed", po::value(&max_speed_)->default_value(120), "pings faster than this (km/h), or negative, are dropped");
    spec.output("flow", "one row per (col, row, slot_start) with at least one clean ping, ascending",
                {{"col", DType::i32}, {"row", DType::i32}, {"slot_start", DType::i64}, {"pings", DType::i64},
                 {"vehicles", DType::i64}, {"mean_speed", DType::f64}, {"tti", DType::f64}, {"level", DType::u8}});
  }

  void run(JobContext& ctx) override {
    check_options();
    Engine& engine = ctx.engine();
    // Passes 1-2 run in their own function, so the cleaned pings and the cell groups
    // (memory and scratch) are released before passes 3-4 take their share of the budget.
    SpillingBuffer<FlowRow> rows = cell_slot_rows(ctx);
    // Likewise the unsorted rows go once sorted, and the sorted ones once in the table:
    // at the end of this statement, before the write (a by-value argument lives until the
    // end of the full-expression that passes it).
    OutputTable flow = flow_table(ctx, sort_unique_rows<FlowKey, FlowStats>(engine, rows));
    ctx.write(std::move(flow));
  }

 private:
  /// The output table; `sorted`, taken by value, is released once copied into it.
  static OutputTable flow_table(JobContext& ctx, KeyedResult<FlowKey, FlowStats> sorted) {
    OutputTable flow = ctx.output_table("flow");
    sorted.for_each([&](const FlowKey& k, const FlowStats& s) {
      flow.append(k.col, k.row, k.slot, s.pings, s.vehicles, s.mean, s.tti, static_cast<std::uint8_t>(s.level));
    });
    return flow;
  }

  /// Passes 1-2: the clean pings, grouped by cell, as one row per (cell, slot).
  SpillingBuffer<FlowRow> cell_slot_rows(JobContext& ctx) const {
    Engine& engine = ctx.engine();
    const double lon1 = bounds_[0], lat1 = bounds_[1], lon2 = bounds_[2], lat2 = bounds_[3];
    // TransBigData area_to_params, written as the contract does (the golden test's
    // reference evaluates the same expressions, so cell edges agree bit for bit).
    const double dlat = cell_meters_ * 360 / (2 * std::numbers::pi * kEarthRadius);
    const double dlon = cell_meters_ * 360 / (2 * std::numbers::pi * kEarthRadius * std::cos((lat1 + lat2) * std::numbers::pi / 360));
    const double lon0 = lon1 - dlon / 2, lat0 = lat1 - dlat / 2;
    const std::int64_t slot_seconds = slot_minutes_ * 60;
    const double max_speed = max_speed_;

    // 1. Clean (bounds, speed) in the map, then keep the first ping of each (vehicle, time).
    TableInput gps = ctx.input("gps");
    const auto first = engine.reduce_by_key<VehicleTime, Ping>(
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
            Ping p;
            p.row = b.first_row() + i;
            p.slot = time[i] - floor_mod(time[i], slot_seconds);
            p.col = static_cast<std::int32_t>(std::floor((lon[i] - lon0) / dlon));
            p.grow = static_cast<std::int32_t>(std::floor((lat[i] - lat0) / dlat));
            p.speed = speed[i];
            emit(VehicleTime{vehicle[i], time[i]}, p);
          }
        },
        [](const Ping& a, const Ping& b) { return a.row <= b.row ? a : b; });

    // 2. A cell's clean pings together, sorted by (slot, vehicle, speed).
    ResultBatches<VehicleTime, Ping> firsts(first);
    const auto by_cell = engine.group_by_key<Cell, Obs>(
        firsts,
        [](const std::vector<std::pair<VehicleTime, Ping>>& batch, auto& emit) {
          for (const auto& [vt, p] : batch) emit(Cell{p.col, p.grow}, Obs{p.slot, vt.vehicle, p.speed});
        },
        GroupOptions{.sort_values = true});

    SpillingBuffer<FlowRow> rows(engine.options().scratch, "flow-rows", engine.options().memory.tables() / 4);
    std::vector<double> speeds;
    by_cell.for_each_group([&](const Cell& cell, std::span<const Obs> obs) {
      speeds.resize(obs.size());
      for (std::size_t i = 0; i < obs.size(); ++i) speeds[i] = obs[i].speed;
      std::sort(speeds.begin(), speeds.end());
      const double free_flow = quantile7(speeds, 0.85);
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
        rows.push(FlowRow{FlowKey{cell.col, cell.row, slot}, s});
      }
    });
    return rows;
  }

  void check_options() {
    const std::string job = name();
    if (!(cell_meters_ > 0) || !std::isfinite(cell_meters_)) {
      throw InputError(job + ": --cell-meters must be a positive number of metres, not " + std::to_string(cell_meters_));
    }
    if (slot_minutes_ < 1 || slot_minutes_ > 7 * 24 * 60) {
      throw InputError(job + ": --slot-minutes must be between 1 and 10080 (a week), not " + std::to_string(slot_minutes_));
    }
    if (!(max_speed_ >= 0) || !std::isfinite(max_speed_)) {
      throw InputError(job + ": --max-speed must be a non-negative speed in km/h, not " + std::to_string(max_speed_));
    }
    const std::string bad = job + ": --bounds '" + bounds_text_ + "' ";
    std::vector<double> v;
    std::stringstream s(bounds_text_);
    for (std::string item; std::getline(s, item, ',');) {
      std::size_t used = 0;
      double x = 0;
      try {
        x = std::stod(item, &used);
      } catch (const std::exception&) {
        throw InputError(bad + "has '" + item + "', which is not a number; give lon1,lat1,lon2,lat2");
      }
      if (item.find_first_not_of(" \t", used) != std::string::npos || !std::isfinite(x)) {
        throw InputError(bad + "has '" + item + "', which is not a number; give lon1,lat1,lon2,lat2");
      }
      v.push_back(x);
    }
    if (v.size() != 4) throw InputError(bad + "needs 4 numbers, lon1,lat1,lon2,lat2; it has " + std::to_string(v.size()));
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
