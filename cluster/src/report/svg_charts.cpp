#include "svg_charts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "svg_parts.hpp"

namespace pearl::cluster::report {

namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#17becf"};

}  // namespace

std::string escape(const std::string& t) {
  std::string out;
  for (const char c : t) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string bar_chart(const std::string& title, const std::vector<std::string>& labels, const std::vector<double>& values,
                      const std::string& unit) {
  const int row = 18, left = 170, width = 720;
  const int height = 40 + row * static_cast<int>(labels.size()) + 10;
  double hi = 0;
  for (const double v : values) hi = std::max(hi, std::isfinite(v) ? v : 0.0);
  if (hi <= 0) hi = 1;
  std::string s = open_svg(width, height, title, labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double y = 32 + row * static_cast<double>(i);
    const double w = std::max(0.0, (std::isfinite(values[i]) ? values[i] : 0.0) / hi * (width - left - 90));
    s += text(left - 6, y + 12, labels[i], "end");
    s += "<rect class=\"mark\" x=\"" + num(left) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" +
         num(row - 4) + "\" fill=\"" + kPalette[0] + "\"><title>" + escape(labels[i]) + ": " + label(values[i]) + unit +
         "</title></rect>";
    s += text(left + w + 4, y + 12, label(values[i]) + unit);
  }
  return s + close_svg();
}

std::string line_chart(const std::string& title, const std::vector<double>& x, const std::vector<Series>& series,
                       const std::vector<bool>& marked, const std::string& x_label) {
  const int width = 720, height = 300, left = 60, right = 130, top = 30, bottom = 40;
  std::vector<double> all;
  for (const auto& s : series) all.insert(all.end(), s.y.begin(), s.y.end());
  // Plain variables, not structured bindings: clang 14 (the fuzz build) cannot capture those.
  const auto y_range = range(all);
  const auto x_range = range(x);
  const double ylo = std::min(0.0, y_range.first), yhi = y_range.second;
  const double xlo = x_range.first, xhi = x_range.second;
  const auto px = [&](double v) { return left + (v - xlo) / (xhi - xlo) * (width - left - right); };
  const auto py = [&](double v) { return top + (1 - (v - ylo) / (yhi - ylo)) * (height - top - bottom); };
  std::size_t marks = 0;
  for (const auto& s : series) {
    for (std::size_t i = 0; i < s.y.size() && i < x.size(); ++i) marks += std::isfinite(s.y[i]) && std::isfinite(x[i]) ? 1 : 0;
  }
  std::string out = open_svg(width, height, title, marks);
  out += "<line class=\"axis\" x1=\"" + num(left) + "\" y1=\"" + num(py(ylo)) + "\" x2=\"" + num(width - right) +
         "\" y2=\"" + num(py(ylo)) + "\"/>";
  out += text(left - 4, py(yhi) + 4, label(yhi), "end") + text(left - 4, py(ylo), label(ylo), "end");
  out += text(left, height - 8, label(xlo)) + text(width - right, height - 8, label(xhi), "end");
  if (!x_label.empty()) out += text((left + width - right) / 2.0, height - 8, x_label, "middle");
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const char* colour = kPalette[k % std::size(kPalette)];
    std::string points;  // missing values (NaN) are left out of the line and the marks
    for (std::size_t i = 0; i < s.y.size() && i < x.size(); ++i) {
      if (std::isfinite(s.y[i]) && std::isfinite(x[i])) points += num(px(x[i])) + "," + num(py(s.y[i])) + " ";
    }
    out += std::string("<polyline fill=\"none\" stroke=\"") + colour + "\" stroke-width=\"1.5\"" +
           (s.dashed ? " stroke-dasharray=\"4 3\"" : "") + " points=\"" + points + "\"/>";
    for (std::size_t i = 0; i < s.y.size() && i < x.size(); ++i) {
      if (!std::isfinite(s.y[i]) || !std::isfinite(x[i])) continue;
      out += std::string("<circle class=\"mark\" r=\"1.5\" cx=\"") + num(px(x[i])) + "\" cy=\"" + num(py(s.y[i])) +
             "\" fill=\"" + colour + "\"/>";
    }
    out += std::string("<text x=\"") + num(width - right + 8) + "\" y=\"" + num(top + 14.0 * static_cast<double>(k + 1)) + "\" fill=\"" +
           colour + "\">" + escape(s.name) + "</text>";
  }
  for (std::size_t i = 0; i < marked.size() && !series.empty() && i < x.size(); ++i) {
    if (marked[i] && std::isfinite(series[0].y[i])) {
      out += "<circle class=\"alarm\" r=\"4\" cx=\"" + num(px(x[i])) + "\" cy=\"" + num(py(series[0].y[i])) +
             "\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>";
    }
  }
  return out + close_svg();
}

std::string heat_map(const std::string& title, const std::vector<std::string>& columns,
                     const std::vector<std::string>& rows, const std::vector<std::vector<double>>& values) {
  const int cell = std::max(8, std::min(24, 560 / std::max<int>(1, static_cast<int>(columns.size()))));
  const int left = 110, top = 40;
  const int width = left + cell * static_cast<int>(columns.size()) + 20;
  const int height = top + cell * static_cast<int>(rows.size()) + 30;
  std::vector<double> all;
  for (const auto& r : values) all.insert(all.end(), r.begin(), r.end());
  const auto [lo, hi] = range(all);
  std::string s = open_svg(std::max(width, 320), height, title, rows.size() * columns.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    s += text(left - 4, top + cell * (static_cast<double>(r) + 0.75), rows[r], "end");
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const double v = values[r][c];
      const double t = std::isfinite(v) ? (v - lo) / (hi - lo) : 0;
      char colour[16];
      std::snprintf(colour, sizeof colour, "#%02x%02x%02x", 255 - static_cast<int>(t * 200),
                    255 - static_cast<int>(t * 120), 255 - static_cast<int>(t * 30));
      s += "<rect class=\"mark\" x=\"" + num(left + cell * static_cast<double>(c)) + "\" y=\"" +
           num(top + cell * static_cast<double>(r)) + "\" width=\"" + num(cell - 1) + "\" height=\"" + num(cell - 1) +
           "\" fill=\"" + colour + "\"><title>" + escape(rows[r]) + " / " + escape(columns[c]) + ": " + label(v) +
           "</title></rect>";
    }
  }
  for (std::size_t c = 0; c < columns.size(); c += std::max<std::size_t>(1, columns.size() / 12)) {
    s += text(left + cell * (static_cast<double>(c) + 0.5), top - 4, columns[c], "middle");
  }
  s += text(left, height - 8, "light " + label(lo) + " .. dark " + label(hi));
  return s + close_svg();
}

std::string interval_chart(const std::string& title, const std::vector<std::string>& labels,
                           const std::vector<double>& estimate, const std::vector<double>& low,
                           const std::vector<double>& high, double reference, bool log_scale) {
  const int row = 22, left = 170, width = 720, right = 110;
  const int height = 40 + row * static_cast<int>(labels.size()) + 24;
  const auto f = [&](double v) { return log_scale ? std::log(std::max(v, 1e-12)) : v; };
  std::vector<double> all(low.begin(), low.end());
  all.insert(all.end(), high.begin(), high.end());
  all.push_back(reference);
  for (auto& v : all) v = f(v);
  const auto lo_hi = range(all);
  const double lo = lo_hi.first, hi = lo_hi.second;
  const auto px = [&](double v) { return left + (f(v) - lo) / (hi - lo) * (width - left - right); };
  std::string s = open_svg(width, height, title, labels.size());
  s += "<line class=\"axis\" x1=\"" + num(px(reference)) + "\" y1=\"28\" x2=\"" + num(px(reference)) + "\" y2=\"" +
       num(height - 20) + "\" stroke-dasharray=\"3 3\"/>";
  s += text(px(reference), height - 6, label(reference), "middle");
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double y = 40 + row * static_cast<double>(i);
    s += text(left - 6, y + 4, labels[i], "end");
    s += "<line x1=\"" + num(px(low[i])) + "\" y1=\"" + num(y) + "\" x2=\"" + num(px(high[i])) + "\" y2=\"" + num(y) +
         "\" stroke=\"" + kPalette[0] + "\" stroke-width=\"2\"/>";
    s += "<circle class=\"mark\" r=\"4\" cx=\"" + num(px(estimate[i])) + "\" cy=\"" + num(y) + "\" fill=\"" +
         kPalette[0] + "\"><title>" + escape(labels[i]) + ": " + label(estimate[i]) + " (" + label(low[i]) + " .. " +
         label(high[i]) + ")</title></circle>";
    s += text(width - right + 8, y + 4, label(estimate[i]) + " (" + label(low[i]) + "–" + label(high[i]) + ")");
  }
  return s + close_svg();
}

std::string timeline(const std::string& title, const std::vector<std::string>& lanes,
                     const std::vector<std::vector<Segment>>& segments) {
  const int row = 22, left = 70, width = 720, right = 20;
  const int height = 40 + row * static_cast<int>(lanes.size()) + 44;
  double end = 0;
  std::size_t marks = 0;
  std::vector<std::string> names;
  for (const auto& lane : segments) {
    for (const auto& seg : lane) {
      end = std::max(end, seg.start + seg.seconds);
      ++marks;
      if (std::find(names.begin(), names.end(), seg.name) == names.end()) names.push_back(seg.name);
    }
  }
  if (end <= 0) end = 1;
  const auto px = [&](double t) { return left + t / end * (width - left - right); };
  std::string s = open_svg(width, height, title, marks);
  for (std::size_t r = 0; r < lanes.size(); ++r) {
    const double y = 30 + row * static_cast<double>(r);
    s += text(left - 6, y + 14, lanes[r], "end");
    for (const auto& seg : segments[r]) {
      const auto k = static_cast<std::size_t>(std::find(names.begin(), names.end(), seg.name) - names.begin());
      s += "<rect class=\"mark\" x=\"" + num(px(seg.start)) + "\" y=\"" + num(y) + "\" width=\"" +
           num(std::max(1.0, px(seg.start + seg.seconds) - px(seg.start))) + "\" height=\"" + num(row - 4) +
           "\" fill=\"" + kPalette[k % std::size(kPalette)] + "\"><title>" + escape(seg.name) + ": " +
           label(seg.seconds) + " s</title></rect>";
    }
  }
  const double legend_y = 30 + row * static_cast<double>(lanes.size()) + 16;
  for (std::size_t k = 0; k < names.size(); ++k) {
    s += std::string("<rect x=\"") + num(left + 90.0 * static_cast<double>(k)) + "\" y=\"" + num(legend_y - 9) +
         "\" width=\"10\" height=\"10\" fill=\"" + kPalette[k % std::size(kPalette)] + "\"/>" +
         text(left + 90.0 * static_cast<double>(k) + 14, legend_y, names[k]);
  }
  s += text(width - right, legend_y + 18, label(end) + " s", "end");
  return s + close_svg();
}

}  // namespace pearl::cluster::report
