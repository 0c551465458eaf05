#include "pearl/cluster/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

#include "pearl/core/error.hpp"
#include "pearl/core/memory.hpp"

namespace pearl::cluster {

namespace {

using nlohmann::json;

std::string fixed(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string bytes(double v) { return format_bytes(static_cast<std::size_t>(std::max(0.0, v))); }

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

double total(const json& stage, const char* key) { return stage["total"].value(key, 0.0); }

void summary(const json& m, const std::string& path, std::ostream& out) {
  out << path << ": " << m.value("job", "?") << " on " << m.value("ranks", 0) << " ranks x " << m.value("threads", 1)
      << " threads, " << m.value("started", "") << " .. " << m.value("finished", "") << ", exit "
      << m.value("exit_status", -1) << '\n';
  if (!m["error"].is_null()) out << "error: " << m["error"].get<std::string>() << '\n';
  out << "pearl " << m.value("pearl_version", "?") << "; " << m.value("mpi_version", "?") << "; HDF5 "
      << m.value("hdf5_version", "?") << "; memory budget " << bytes(m["memory_budget"].value("total_bytes", 0.0))
      << " per rank\n";
  double rows = 0, read = 0;
  for (const auto& s : m["stages"]) {
    rows += total(s, "rows_read");
    read += total(s, "bytes_read");
  }
  out << "inputs: " << m["inputs"].size() << " files, " << fixed(rows, 0) << " rows, " << bytes(read) << " read\n\n";
  out << pad("stage", 9) << pad("wall max", 11) << pad("imbalance", 11) << pad("rows read", 12) << pad("sent", 11)
      << pad("spilled", 11) << "peak RSS\n";
  for (const auto& s : m["stages"]) {
    out << pad(s.value("name", "?"), 9) << pad(fixed(total(s, "wall_seconds_max")) + " s", 11)
        << pad(fixed(total(s, "imbalance"), 2), 11) << pad(fixed(total(s, "rows_read"), 0), 12)
        << pad(bytes(total(s, "bytes_sent")), 11) << pad(bytes(total(s, "spilled_bytes")), 11)
        << bytes(total(s, "peak_rss_bytes")) << '\n';
  }
  if (!m["operations"].empty()) {
    out << "\n" << pad("operation", 16) << pad("wall max", 11) << pad("emitted", 12) << pad("combined", 12)
        << pad("shuffled", 11) << pad("rounds", 8) << "spill runs\n";
    for (const auto& o : m["operations"]) {
      out << pad(o.value("kind", "?"), 16) << pad(fixed(total(o, "wall_seconds_max")) + " s", 11)
          << pad(fixed(total(o, "pairs_emitted"), 0), 12) << pad(fixed(total(o, "pairs_after_combining"), 0), 12)
          << pad(bytes(total(o, "bytes_sent")), 11) << pad(fixed(total(o, "rounds"), 0), 8)
          << fixed(total(o, "spilled_runs"), 0) << '\n';
    }
  }
  out << "\nrank  host             peak RSS     CPU s\n";
  for (const auto& r : m["per_rank"]) {
    out << pad(std::to_string(r.value("rank", 0)), 6) << pad(r.value("host", "?"), 17)
        << pad(bytes(r.value("peak_rss_bytes", 0.0)), 13) << fixed(r.value("cpu_seconds", 0.0), 2) << '\n';
  }
}

void compare(const json& a, const json& b, std::ostream& out) {
  out << "A: " << a.value("job", "?") << " on " << a.value("ranks", 0) << " ranks; B: " << b.value("job", "?") << " on "
      << b.value("ranks", 0) << " ranks\n\n";
  out << pad("stage", 9) << pad("A wall", 11) << pad("B wall", 11) << pad("B/A", 7) << pad("A sent", 11)
      << pad("B sent", 11) << pad("A peak RSS", 12) << "B peak RSS\n";
  std::map<std::string, const json*> in_b;
  for (const auto& s : b["stages"]) in_b[s.value("name", "")] = &s;
  for (const auto& s : a["stages"]) {
    const auto it = in_b.find(s.value("name", ""));
    if (it == in_b.end()) continue;
    const json& t = *it->second;
    const double wa = total(s, "wall_seconds_max"), wb = total(t, "wall_seconds_max");
    out << pad(s.value("name", "?"), 9) << pad(fixed(wa) + " s", 11) << pad(fixed(wb) + " s", 11)
        << pad(wa > 1e-3 ? fixed(wb / wa, 2) : "-", 7) << pad(bytes(total(s, "bytes_sent")), 11)
        << pad(bytes(total(t, "bytes_sent")), 11) << pad(bytes(total(s, "peak_rss_bytes")), 12)
        << bytes(total(t, "peak_rss_bytes")) << '\n';
  }
  const ScalingPoint pa = scaling_point(a), pb = scaling_point(b);
  out << pad("total", 9) << pad(fixed(pa.seconds) + " s", 11) << pad(fixed(pb.seconds) + " s", 11)
      << pad(pa.seconds > 1e-3 ? fixed(pb.seconds / pa.seconds, 2) : "-", 7) << pad(bytes(pa.shuffle_bytes), 11)
      << pad(bytes(pb.shuffle_bytes), 11) << pad(bytes(pa.peak_rss), 12) << bytes(pb.peak_rss) << '\n';
}

/// Least squares for up to 3 unknowns (normal equations, Gaussian elimination), with
/// columns whose coefficient comes out negative dropped and the rest fitted again.
std::vector<double> fit_nonnegative(const std::vector<std::vector<double>>& x, const std::vector<double>& y) {
  const std::size_t k = x.front().size();
  std::vector<bool> used(k, true);
  for (;;) {
    std::vector<std::size_t> cols;
    for (std::size_t j = 0; j < k; ++j) {
      if (used[j]) cols.push_back(j);
    }
    const std::size_t n = cols.size();
    std::vector<std::vector<double>> a(n, std::vector<double>(n + 1, 0.0));
    for (std::size_t i = 0; i < y.size(); ++i) {
      for (std::size_t r = 0; r < n; ++r) {
        for (std::size_t c = 0; c < n; ++c) a[r][c] += x[i][cols[r]] * x[i][cols[c]];
        a[r][n] += x[i][cols[r]] * y[i];
      }
    }
    for (std::size_t p = 0; p < n; ++p) {
      std::size_t best = p;
      for (std::size_t r = p + 1; r < n; ++r) {
        if (std::abs(a[r][p]) > std::abs(a[best][p])) best = r;
      }
      std::swap(a[p], a[best]);
      if (std::abs(a[p][p]) < 1e-300) continue;  // singular: that coefficient stays 0
      for (std::size_t r = 0; r < n; ++r) {
        if (r == p) continue;
        const double f = a[r][p] / a[p][p];
        for (std::size_t c = p; c <= n; ++c) a[r][c] -= f * a[p][c];
      }
    }
    std::vector<double> coef(k, 0.0);
    bool negative = false;
    for (std::size_t r = 0; r < n; ++r) {
      coef[cols[r]] = std::abs(a[r][r]) < 1e-300 ? 0.0 : a[r][n] / a[r][r];
      if (coef[cols[r]] < 0) {
        used[cols[r]] = false;
        negative = true;
      }
    }
    if (!negative || n == 1) {
      for (auto& c : coef) c = std::max(0.0, c);
      return coef;
    }
  }
}

void print_projection(const std::vector<ScalingPoint>& points, int ranks, std::ostream& out) {
  const Projection p = project(points, ranks);
  out << "measured:\n  ranks  wall         shuffled     peak RSS per rank\n";
  for (const auto& s : points) {
    out << "  " << pad(std::to_string(s.ranks), 7) << pad(fixed(s.seconds) + " s", 13) << pad(bytes(s.shuffle_bytes), 13)
        << bytes(s.peak_rss) << '\n';
  }
  out << "model: T(p) = " << fixed(p.fixed) << " s + " << fixed(p.work) << " s / p + " << p.shuffle_per_byte * 1e9
      << " s/GB x shuffle bytes per rank;  M(p) = " << bytes(p.rss_fixed) << " + " << bytes(p.rss_shared) << " / p\n";
  out << "projected at " << ranks << " ranks: " << fixed(p.seconds) << " s, peak RSS per rank " << bytes(p.peak_rss)
      << '\n';
}

}  // namespace

json read_metrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot read metrics file '" + path + "'");
  json m;
  try {
    in >> m;
  } catch (const json::exception& e) {
    throw InputError("'" + path + "' is not a metrics file (JSON: " + e.what() + ")");
  }
  if (!m.is_object() || m.value("format", "") != "pearl-run-metrics/1") {
    throw InputError("'" + path + "' is not a pearl metrics file (no \"format\": \"pearl-run-metrics/1\")");
  }
  return m;
}

ScalingPoint scaling_point(const json& m) {
  ScalingPoint p;
  p.ranks = m.value("ranks", 1);
  for (const auto& s : m["stages"]) {
    p.seconds += total(s, "wall_seconds_max");
    p.shuffle_bytes += total(s, "bytes_sent");
    p.rows += total(s, "rows_read");
  }
  for (const auto& r : m["per_rank"]) p.peak_rss = std::max(p.peak_rss, r.value("peak_rss_bytes", 0.0));
  return p;
}

Projection project(const std::vector<ScalingPoint>& points, int ranks) {
  // The total shuffle volume S, as if spread evenly: each run's bytes / ((p-1)/p).
  double s_total = 0;
  int with_shuffle = 0;
  for (const auto& pt : points) {
    if (pt.ranks > 1) {
      s_total += pt.shuffle_bytes / ((pt.ranks - 1.0) / pt.ranks);
      ++with_shuffle;
    }
  }
  if (with_shuffle > 0) s_total /= with_shuffle;
  const auto per_rank_shuffle = [&](double p) { return s_total * (p - 1) / (p * p); };
  std::vector<std::vector<double>> x, xm;
  std::vector<double> y, ym;
  for (const auto& pt : points) {
    const double p = pt.ranks;
    x.push_back({1.0, 1.0 / p, pt.ranks > 1 ? pt.shuffle_bytes / p : 0.0});
    y.push_back(pt.seconds);
    xm.push_back({1.0, 1.0 / p});
    ym.push_back(pt.peak_rss);
  }
  Projection out;
  out.ranks = ranks;
  const auto t = fit_nonnegative(x, y);
  out.fixed = t[0];
  out.work = t[1];
  out.shuffle_per_byte = t[2];
  const auto m = fit_nonnegative(xm, ym);
  out.rss_fixed = m[0];
  out.rss_shared = m[1];
  const double p = ranks;
  out.seconds = out.fixed + out.work / p + out.shuffle_per_byte * per_rank_shuffle(p);
  out.peak_rss = out.rss_fixed + out.rss_shared / p;
  return out;
}

void stats_command(const std::vector<std::string>& args, std::ostream& out) {
  int project_to = 0;
  std::vector<std::string> files;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--project") {
      if (i + 1 == args.size()) throw InputError("--project needs a rank count (--project 16 A.json B.json ...)");
      try {
        project_to = std::stoi(args[++i]);
      } catch (const std::exception&) {
        project_to = 0;
      }
      if (project_to < 1) throw InputError("--project " + args[i] + ": give a rank count of at least 1");
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.empty()) throw InputError("'pearl stats' needs a metrics file (OUT.metrics.json), two to compare, or --project");
  std::vector<json> runs;
  runs.reserve(files.size());
  for (const auto& f : files) runs.push_back(read_metrics(f));
  if (project_to > 0) {
    std::vector<ScalingPoint> points;
    points.reserve(runs.size());
    for (const auto& r : runs) points.push_back(scaling_point(r));
    const bool varied =
        std::any_of(points.begin(), points.end(), [&](const auto& p) { return p.ranks != points[0].ranks; });
    if (!varied) {
      throw InputError("--project needs runs of the same job at two or more different rank counts");
    }
    for (const auto& r : runs) {
      if (r.value("job", "") != runs[0].value("job", "")) throw InputError("--project: the runs are of different jobs");
    }
    print_projection(points, project_to, out);
    return;
  }
  if (files.size() == 1) summary(runs[0], files[0], out);
  else if (files.size() == 2) compare(runs[0], runs[1], out);
  else throw InputError("'pearl stats' takes one metrics file, or two to compare (more only with --project)");
}

}  // namespace pearl::cluster
