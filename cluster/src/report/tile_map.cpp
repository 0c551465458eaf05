// A tile map: squares on a grid, a sequential colour scale (ColorBrewer's YlOrRd, light
// for low values, dark red for high) and its legend beside the grid.
#include "tile_map.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "svg_charts.hpp"
#include "svg_parts.hpp"

namespace pearl::cluster::report {

namespace {

constexpr int kCell = 70, kGap = 4, kLeft = 12, kTop = 34, kLegendWidth = 190;
constexpr const char* kGrey = "#d0d0d0";

/// YlOrRd, 5 classes: the scale runs through these at equal steps.
constexpr std::array<std::array<int, 3>, 5> kStops = {
    {{255, 255, 178}, {254, 204, 92}, {253, 141, 60}, {240, 59, 32}, {189, 0, 38}}};

/// The colour of position t in [0, 1] on the scale.
std::string colour(double t) {
  t = std::clamp(t, 0.0, 1.0) * static_cast<double>(kStops.size() - 1);
  const auto i = std::min(static_cast<std::size_t>(t), kStops.size() - 2);
  const double f = t - static_cast<double>(i);
  char buf[8];
  std::array<int, 3> c{};
  for (std::size_t k = 0; k < 3; ++k) {
    c[k] = static_cast<int>(std::lround(kStops[i][k] + f * (kStops[i + 1][k] - kStops[i][k])));
  }
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

/// Text on a tile: white on the dark end of the scale. Inline style, because the page's
/// stylesheet colours chart text and a stylesheet wins over an attribute.
std::string tile_text(double x, double y, const std::string& t, bool dark, const char* size) {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"middle\" style=\"font-size:" + size +
         (dark ? ";fill:#fff" : "") + "\">" + escape(t) + "</text>";
}

}  // namespace

std::string tile_map(const std::string& title, const std::vector<Tile>& tiles, const std::string& caption) {
  int rows = 1, cols = 1;
  std::vector<double> values;
  std::size_t marks = 0;
  std::string missing;  // the grey's legend: every reason a tile has no value
  for (const auto& t : tiles) {
    rows = std::max(rows, t.row + 1);
    cols = std::max(cols, t.col + 1);
    values.push_back(t.value);
    if (std::isfinite(t.value)) {
      ++marks;
    } else if (missing.find(t.missing) == std::string::npos) {
      missing += (missing.empty() ? "" : ", ") + t.missing;
    }
  }
  const auto lo_hi = range(values);
  const double lo = lo_hi.first, hi = lo_hi.second;
  const int grid_width = kLeft + cols * (kCell + kGap);
  const int height = std::max(kTop + rows * (kCell + kGap) + 10, 250);
  std::string s = open_svg(grid_width + kLegendWidth, height, title, marks);
  for (const auto& t : tiles) {
    const double x = kLeft + t.col * (kCell + kGap), y = kTop + t.row * (kCell + kGap);
    const bool has = std::isfinite(t.value);
    const double pos = has ? (t.value - lo) / (hi - lo) : 0;
    const bool dark = has && pos > 0.6;
    s += "<g class=\"tile\"><title>" + escape(t.tooltip) + "</title>";
    s += std::string("<rect class=\"") + (has ? "mark" : "nodata") + "\" x=\"" + num(x) + "\" y=\"" + num(y) +
         "\" width=\"" + num(kCell) + "\" height=\"" + num(kCell) + "\" rx=\"3\" fill=\"" +
         (has ? colour(pos) : kGrey) + "\"/>";
    s += tile_text(x + kCell / 2.0, y + kCell / 2.0 - 4, t.name, dark, "11px");
    s += tile_text(x + kCell / 2.0, y + kCell / 2.0 + 12, has ? label(t.value) : t.missing, dark, "10px");
    s += "</g>";
  }
  // The legend: the scale from its highest value (top) to its lowest, then the grey.
  const double lx = grid_width + 16;
  constexpr int kSteps = 6, kStep = 22;
  s += text(lx, kTop + 10, "colour scale");
  for (int i = 0; i < kSteps; ++i) {
    const double frac = 1.0 - static_cast<double>(i) / (kSteps - 1);
    const double y = kTop + 18 + i * kStep;
    s += "<rect x=\"" + num(lx) + "\" y=\"" + num(y) + "\" width=\"18\" height=\"" + num(kStep) + "\" fill=\"" +
         colour(frac) + "\"/>" + text(lx + 24, y + 15, label(lo + frac * (hi - lo)));
  }
  if (!missing.empty()) {
    const double y = kTop + 28 + kSteps * kStep;
    s += "<rect x=\"" + num(lx) + "\" y=\"" + num(y) + "\" width=\"18\" height=\"18\" fill=\"" + kGrey + "\"/>" +
         text(lx + 24, y + 13, missing);
  }
  return s + close_svg(caption);
}

}  // namespace pearl::cluster::report
