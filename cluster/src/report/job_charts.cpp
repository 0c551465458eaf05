// The charts of each built-in job's output, and a generic summary for the rest
// (table.aggregate, plugins). A job whose expected columns are missing (other options,
// an older file) falls back to the generic view rather than failing the report.
#include "job_charts.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>

#include "incidence_map.hpp"
#include "svg_charts.hpp"

namespace pearl::cluster::report {

namespace {

/// health.incidence's --per as its output records it; 100000 (its default) when absent.
double rate_unit(const Parameters& parameters) {
  const auto it = parameters.find("per");
  if (it == parameters.end()) return 100000;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    return 100000;
  }
}

/// Indices of the `n` largest values, largest first.
std::vector<std::size_t> top(const std::vector<double>& v, std::size_t n) {
  std::vector<std::size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return v[a] > v[b]; });
  if (idx.size() > n) idx.resize(n);
  return idx;
}

/// Sums `value` per label, the `n` largest as a ranked bar chart.
std::string ranked(const std::string& title, const std::vector<std::string>& labels, const std::vector<double>& value,
                   std::size_t n = 25) {
  std::map<std::string, double> sums;
  for (std::size_t i = 0; i < labels.size() && i < value.size(); ++i) sums[labels[i]] += value[i];
  std::vector<std::string> l;
  std::vector<double> v;
  for (const auto& [k, x] : sums) {
    l.push_back(k);
    v.push_back(x);
  }
  std::vector<std::string> tl;
  std::vector<double> tv;
  for (auto i : top(v, n)) {
    tl.push_back(l[i]);
    tv.push_back(v[i]);
  }
  return bar_chart(title, tl, tv);
}

std::string outbreak(const Frame& f) {
  const Column *day = f.find("day"), *obs = f.find("observed"), *ub = f.find("upperbound"), *alarm = f.find("alarm"),
               *method = f.find("method");
  if (day == nullptr || obs == nullptr || ub == nullptr || alarm == nullptr || f.read == 0) return {};
  const auto keys = key_columns(f);
  const auto labels = row_labels(f, keys);
  std::string html = ranked("EARS alarms per key (all methods)", labels, alarm->num, 20);
  // The curve of the key with the most alarms, with the first method's alarms marked.
  std::map<std::string, double> alarms;
  for (std::size_t i = 0; i < f.read; ++i) alarms[labels[i]] += alarm->num[i];
  std::string key = labels[0];
  for (const auto& [k, n] : alarms) {
    if (n > alarms[key]) key = k;
  }
  const std::string first_method = method != nullptr ? method->cell(0) : "";
  std::vector<double> x, o, u;
  std::vector<bool> marked;
  for (std::size_t i = 0; i < f.read; ++i) {
    if (labels[i] != key || (method != nullptr && method->cell(i) != first_method)) continue;
    x.push_back(day->num[i]);
    o.push_back(obs->num[i]);
    u.push_back(ub->num[i]);
    marked.push_back(alarm->num[i] > 0);
  }
  html += line_chart("Epidemic curve of " + key + (first_method.empty() ? "" : " (" + first_method + ")") +
                         ": observed, upper bound, alarms circled",
                     x, {{"observed", o}, {"upper bound", u, true}}, marked, "day");
  return html;
}

std::string incidence(const Frame& f, const Parameters& parameters) {
  const Column* value = f.find("rate");
  if (value == nullptr) value = f.find("incidence");
  if (value == nullptr) value = f.find("cases");
  if (value == nullptr || value->text) return {};
  const auto keys = key_columns(f);
  return ranked("Incidence by " + keys.front()->name + " (" + value->name + "), ranked", row_labels(f, keys),
                value->num, 30) +
         incidence_map(f, rate_unit(parameters));
}

std::string risk_model(const Frame& f) {
  const Column *term = f.find("term"), *est = f.find("estimate"), *se = f.find("std_error");
  if (term == nullptr || est == nullptr || se == nullptr) return {};
  std::vector<std::string> l;
  std::vector<double> e, lo, hi;
  for (std::size_t i = 0; i < f.read; ++i) {
    if (term->str[i] == "(Intercept)") continue;
    l.push_back(term->str[i]);
    e.push_back(std::exp(est->num[i]));
    lo.push_back(std::exp(est->num[i] - 1.96 * se->num[i]));
    hi.push_back(std::exp(est->num[i] + 1.96 * se->num[i]));
  }
  return interval_chart("Odds ratios with 95% intervals (log scale)", l, e, lo, hi, 1.0, true);
}

std::string compliance(const Frame& f) {
  const Column *rate = f.find("collection_rate"), *arrears = f.find("arrears");
  if (rate == nullptr || arrears == nullptr) return {};
  const auto labels = row_labels(f, key_columns(f));
  return ranked("Collection rate by region", labels, rate->num, 30) +
         ranked("Arrears by region, largest first", labels, arrears->num, 30);
}

std::string anomalies(const Frame& f) {
  const Column *rule = f.find("rule"), *claims = f.find("claims"), *amount = f.find("amount");
  if (f.name != "summary" || rule == nullptr || claims == nullptr || amount == nullptr) return {};
  return bar_chart("Flagged claims by rule", rule->str, claims->num) +
         bar_chart("Flagged amount by rule", rule->str, amount->num);
}

std::string unemployment(const Frame& f) {
  const Column *region = f.find("region_code"), *month = f.find("month"), *rate = f.find("rate"),
               *warning = f.find("warning");
  if (region == nullptr || month == nullptr || rate == nullptr || warning == nullptr) return {};
  // The three regions with the highest peak rate, one chart each, warnings circled.
  std::map<double, double> peak;
  for (std::size_t i = 0; i < f.read; ++i) peak[region->num[i]] = std::max(peak[region->num[i]], rate->num[i]);
  std::vector<double> regions, peaks;
  for (const auto& [r, p] : peak) {
    regions.push_back(r);
    peaks.push_back(p);
  }
  std::string html;
  for (auto k : top(peaks, 3)) {
    std::vector<double> x, y;
    std::vector<bool> marked;
    for (std::size_t i = 0; i < f.read; ++i) {
      if (region->num[i] != regions[k]) continue;
      x.push_back(month->num[i]);
      y.push_back(rate->num[i]);
      marked.push_back(warning->num[i] > 0);
    }
    html += line_chart("Unemployment rate, region " + std::to_string(static_cast<long long>(regions[k])) +
                           " (warning months circled)",
                       x, {{"rate", y}}, marked, "month");
  }
  return html;
}

/// Sums `value` over (row key, column key) for the `n` largest of each, as a heat map.
std::string cross(const std::string& title, const Column& rows, const Column& cols, const std::vector<double>& value,
                  std::size_t n, std::size_t read) {
  std::map<std::string, double> row_sum, col_sum;
  std::map<std::pair<std::string, std::string>, double> cell;
  for (std::size_t i = 0; i < read; ++i) {
    row_sum[rows.cell(i)] += value[i];
    col_sum[cols.cell(i)] += value[i];
    cell[{rows.cell(i), cols.cell(i)}] += value[i];
  }
  const auto pick = [&](const std::map<std::string, double>& m) {
    std::vector<std::string> k;
    std::vector<double> v;
    for (const auto& [a, b] : m) {
      k.push_back(a);
      v.push_back(b);
    }
    std::vector<std::string> out;
    for (auto i : top(v, n)) out.push_back(k[i]);
    return out;
  };
  const auto r = pick(row_sum), c = pick(col_sum);
  std::vector<std::vector<double>> values(r.size(), std::vector<double>(c.size(), 0.0));
  for (std::size_t i = 0; i < r.size(); ++i) {
    for (std::size_t j = 0; j < c.size(); ++j) {
      const auto it = cell.find({r[i], c[j]});
      if (it != cell.end()) values[i][j] = it->second;
    }
  }
  return heat_map(title, c, r, values);
}

std::string od(const Frame& f) {
  const Column *o = f.find("origin"), *d = f.find("destination"), *trips = f.find("trips");
  if (f.name != "od" || o == nullptr || d == nullptr || trips == nullptr) return {};
  return cross("Trips origin (rows) to destination (columns), busiest 20 stations", *o, *d, trips->num, 20, f.read);
}

std::string flow(const Frame& f) {
  const Column *col = f.find("col"), *row = f.find("row"), *slot = f.find("slot_start"), *tti = f.find("tti");
  if (col == nullptr || row == nullptr || slot == nullptr || tti == nullptr) return {};
  std::vector<double> sum(24, 0.0), n(24, 0.0);
  for (std::size_t i = 0; i < f.read; ++i) {
    if (!std::isfinite(tti->num[i])) continue;  // a slot without a free-flow reference
    const auto h = static_cast<std::size_t>(std::fmod(std::floor(slot->num[i] / 3600), 24) + 24) % 24;
    sum[h] += tti->num[i];
    n[h] += 1;
  }
  std::vector<double> hours, mean;
  for (std::size_t h = 0; h < 24; ++h) {
    if (n[h] == 0) continue;
    hours.push_back(static_cast<double>(h));
    mean.push_back(sum[h] / n[h]);
  }
  return line_chart("Congestion (mean travel time index) by hour of day", hours, {{"mean TTI", mean}}, {}, "hour") +
         cross("Travel time index summed by grid cell (row x col), 25 busiest", *row, *col, tti->num, 25, f.read);
}

}  // namespace

std::vector<std::string> row_labels(const Frame& f, const std::vector<const Column*>& keys) {
  std::vector<std::string> out(f.read);
  for (std::size_t i = 0; i < f.read; ++i) {
    for (const Column* k : keys) out[i] += (out[i].empty() ? "" : " / ") + k->cell(i);
  }
  return out;
}

// Columns come in name order from the file, so position says nothing about keys.
std::vector<const Column*> key_columns(const Frame& f) {
  static const std::set<std::string> names = {"region_code", "region", "city", "county", "disease", "year",
                                              "sex", "age_group", "insurance", "industry", "benefit", "origin",
                                              "destination"};
  std::vector<const Column*> keys;
  for (const auto& c : f.columns) {
    if ((c.text && c.name != "method") || names.count(c.name) != 0) keys.push_back(&c);
  }
  if (keys.empty() && !f.columns.empty()) keys.push_back(&f.columns.front());
  return keys;
}

std::string generic_table(const Frame& f, bool with_chart) {
  std::string html = "<table class=\"summary\"><tr><th>column</th><th>type</th><th>min</th><th>max</th><th>mean</th></tr>";
  for (const auto& c : f.columns) {
    html += "<tr><td>" + escape(c.name) + "</td><td>" + (c.text ? "text" : "number") + "</td>";
    if (c.text || c.num.empty()) {
      std::set<std::string> distinct(c.str.begin(), c.str.end());
      html += "<td colspan=\"3\">" + std::to_string(distinct.size()) + " distinct values</td></tr>";
      continue;
    }
    // Over the finite values: a suppressed rate is NaN, which would make every figure NaN
    // (or, for min and max, depend on where it lies).
    double lo = INFINITY, hi = -INFINITY, sum = 0, n = 0;
    for (const double v : c.num) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v), hi = std::max(hi, v), sum += v, n += 1;
    }
    char buf[160];
    if (n == 0) std::snprintf(buf, sizeof buf, "<td colspan=\"3\">no finite values</td></tr>");
    else std::snprintf(buf, sizeof buf, "<td>%.6g</td><td>%.6g</td><td>%.6g</td></tr>", lo, hi, sum / n);
    html += buf;
  }
  html += "</table>";
  // The last numeric figure by the key columns, largest first: a generic view of a result.
  const auto keys = key_columns(f);
  const Column* value = nullptr;
  for (const auto& c : f.columns) {
    if (!c.text && std::find(keys.begin(), keys.end(), &c) == keys.end()) value = &c;
  }
  if (with_chart && value != nullptr && f.read > 0) {
    std::string by;
    for (const Column* k : keys) by += (by.empty() ? "" : ", ") + k->name;
    html += ranked(value->name + " by " + by + " (largest 25)", row_labels(f, keys), value->num, 25);
  }
  return html;
}

std::string job_charts(const std::string& job, const Frame& f, const Parameters& parameters) {
  if (job == "health.outbreak") return outbreak(f);
  if (job == "health.incidence") return incidence(f, parameters);
  if (job == "health.risk_model") return risk_model(f);
  if (job == "social.compliance") return compliance(f);
  if (job == "social.anomalies") return anomalies(f);
  if (job == "social.unemployment") return unemployment(f);
  if (job == "transport.od") return od(f);
  if (job == "transport.flow") return flow(f);
  return {};
}

}  // namespace pearl::cluster::report
