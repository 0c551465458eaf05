// pearl/cluster/stats.hpp — `pearl stats`: run metrics (OUT.metrics.json) read back.
//
//   pearl stats run.metrics.json                  a readable summary of one run
//   pearl stats a.metrics.json b.metrics.json     two runs side by side, stage by stage
//   pearl stats --project 16 r1.json r2.json r4.json
//                                                 time and per-rank memory at 16 ranks,
//                                                 from runs of the same job at fewer ranks
//
// The projection model (docs/performance.md, "Projecting to more ranks"): a run's wall
// time is  T(p) = a + b / p + c * v(p),  with a the part that does not shrink with ranks,
// b the work over all rows (its per-row cost times the rows), and v(p) the shuffle bytes
// one rank moves (S * (p - 1) / p^2 for a total S that hash partitioning spreads evenly);
// per-rank peak memory is  M(p) = m0 + m1 / p.  Coefficients come from a least-squares
// fit to the runs given, negative ones dropped.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace pearl::cluster {

/// The `pearl stats` command (rank 0's part): `args` are what follows "stats".
/// Throws InputError for unreadable files or bad arguments.
void stats_command(const std::vector<std::string>& args, std::ostream& out);

/// One run's figures the projection uses.
struct ScalingPoint {
  int ranks = 1;
  double seconds = 0;        // wall time of the whole run (slowest rank per stage)
  double shuffle_bytes = 0;  // over all ranks
  double rows = 0;
  double peak_rss = 0;       // the largest rank's
};

struct Projection {
  int ranks = 1;
  double seconds = 0;
  double peak_rss = 0;
  double fixed = 0, work = 0, shuffle_per_byte = 0;  // a, b, c of the time model
  double rss_fixed = 0, rss_shared = 0;              // m0, m1 of the memory model
};

/// Fits the model to `points` (at least two distinct rank counts) and evaluates it at `ranks`.
Projection project(const std::vector<ScalingPoint>& points, int ranks);

/// The figures of one metrics document.
ScalingPoint scaling_point(const nlohmann::json& metrics);

/// Reads a metrics file; InputError naming it if it is not one.
nlohmann::json read_metrics(const std::string& path);

}  // namespace pearl::cluster
