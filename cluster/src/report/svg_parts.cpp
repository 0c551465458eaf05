// The building blocks of every chart (svg_parts.hpp): frame, text, numbers, ranges.
#include "svg_parts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "svg_charts.hpp"

namespace pearl::cluster::report {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string label(double v) {
  char buf[32];
  const double a = std::abs(v);
  if (a >= 1e9) std::snprintf(buf, sizeof buf, "%.3gG", v / 1e9);
  else if (a >= 1e6) std::snprintf(buf, sizeof buf, "%.3gM", v / 1e6);
  else if (a >= 1e4) std::snprintf(buf, sizeof buf, "%.3gk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string open_svg(int width, int height, const std::string& title, std::size_t marks) {
  std::ostringstream s;
  s << "<figure><svg class=\"chart\" data-marks=\"" << marks << "\" viewBox=\"0 0 " << width << ' ' << height
    << "\" width=\"" << width << "\" height=\"" << height << "\" xmlns=\"http://www.w3.org/2000/svg\">"
    << "<text x=\"8\" y=\"18\" class=\"title\">" << escape(title) << "</text>";
  return s.str();
}

std::string close_svg(const std::string& caption) {
  if (caption.empty()) return "</svg></figure>\n";
  return "</svg><figcaption class=\"meta\">" + escape(caption) + "</figcaption></figure>\n";
}

std::string text(double x, double y, const std::string& t, const char* anchor) {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\">" + escape(t) + "</text>";
}

std::pair<double, double> range(const std::vector<double>& v) {
  double lo = 0, hi = 0;
  bool first = true;
  for (const double x : v) {
    if (!std::isfinite(x)) continue;
    lo = first ? x : std::min(lo, x);
    hi = first ? x : std::max(hi, x);
    first = false;
  }
  if (hi == lo) hi = lo + 1;
  return {lo, hi};
}

}  // namespace pearl::cluster::report
