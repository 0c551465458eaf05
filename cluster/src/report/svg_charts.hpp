// svg_charts.hpp — the charts of `pearl report`, drawn as inline SVG by pearl itself.
//
// Every chart is an <svg class="chart" data-marks="N"> whose data points are elements
// of class "mark" (bars, points, cells), so a browser test can check that each chart
// drew what it was given. Text is escaped; sizes are fixed (the page scales them).
//
//   std::string svg = pearl::cluster::report::bar_chart("Cases by city", {"GZ", "SZ"}, {120, 80});
#pragma once

#include <string>
#include <vector>

namespace pearl::cluster::report {

/// Text safe inside HTML/SVG elements and attributes.
std::string escape(const std::string& text);

/// Horizontal bars, one per label, in the order given.
std::string bar_chart(const std::string& title, const std::vector<std::string>& labels,
                      const std::vector<double>& values, const std::string& unit = "");

struct Series {
  std::string name;
  std::vector<double> y;  // one per x
  bool dashed = false;
};

/// Lines over a shared x; `marked[i]` draws a red point on the first series at x[i].
std::string line_chart(const std::string& title, const std::vector<double>& x, const std::vector<Series>& series,
                       const std::vector<bool>& marked = {}, const std::string& x_label = "");

/// Cells coloured by value: values[row][col].
std::string heat_map(const std::string& title, const std::vector<std::string>& columns,
                     const std::vector<std::string>& rows, const std::vector<std::vector<double>>& values);

/// Point estimates with intervals, one row per label, on a log axis when `log_scale`,
/// with a reference line at `reference`.
std::string interval_chart(const std::string& title, const std::vector<std::string>& labels,
                           const std::vector<double>& estimate, const std::vector<double>& low,
                           const std::vector<double>& high, double reference, bool log_scale);

struct Segment {
  std::string name;
  double start = 0, seconds = 0;
};

/// One lane per row (rank) of named segments on a time axis (seconds).
std::string timeline(const std::string& title, const std::vector<std::string>& lanes,
                     const std::vector<std::vector<Segment>>& segments);

}  // namespace pearl::cluster::report
