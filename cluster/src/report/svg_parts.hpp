// svg_parts.hpp — the pieces every chart of `pearl report` is built from: the <svg>
// frame with its title and mark count, numbers and labels as text, the value range.
// Shared by svg_charts.cpp and tile_map.cpp; not a public interface.
//
//   std::string s = open_svg(720, 300, "Cases by city", n);
//   s += text(10, 40, label(1234567.0));   // "1.23M"
//   s += close_svg();
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace pearl::cluster::report {

/// A coordinate as SVG text: one decimal.
std::string num(double v);
/// A value as people read it: 1234567 -> "1.23M", 0.0312 -> "0.0312".
std::string label(double v);
/// <figure><svg class="chart" data-marks="marks" ...> with its title at the top left.
std::string open_svg(int width, int height, const std::string& title, std::size_t marks);
/// Closes what open_svg opened; `caption` (escaped here) becomes a <figcaption> when given.
std::string close_svg(const std::string& caption = "");
/// A <text> element at (x, y); `t` is escaped.
std::string text(double x, double y, const std::string& t, const char* anchor = "start");
/// The smallest and largest finite values of `v` (0..1 when there are none; widened by 1
/// when they are equal, so a scale never divides by zero).
std::pair<double, double> range(const std::vector<double>& v);

}  // namespace pearl::cluster::report
