// tile_map.hpp — a tile map (grid cartogram): one equal square per area, placed on a grid
// by its rough position, coloured by value on a sequential scale, as newspapers draw
// states or provinces. It needs no borders, so no map file: pearl draws it from a table
// of grid positions (incidence_map.cpp has Guangdong's).
//
// Like every chart of `pearl report`, it is an <svg class="chart" data-marks="N">: each
// tile with a value is one element of class "mark"; tiles without one are grey and
// say why ("no data", "suppressed"). Each tile has a <title> tooltip with its value.
//
//   std::vector<Tile> tiles = {{"Guangzhou", "广州 Guangzhou: 12.3", 1, 3, 12.3}};
//   std::string svg = tile_map("Incidence by city", tiles, "Crude rate, J11, 2023");
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace pearl::cluster::report {

struct Tile {
  std::string name;     // drawn on the tile
  std::string tooltip;  // the tile's <title> (name, value, unit, anything else)
  int row = 0, col = 0; // grid position: row 0 at the top (north), col 0 at the left (west)
  double value = std::numeric_limits<double>::quiet_NaN();  // NaN: no value, drawn grey
  std::string missing = "no data";  // what a tile without a value says
};

/// The tiles on their grid with a legend of the colour scale (lowest to highest value
/// drawn) and of the grey; `caption` goes under the chart.
std::string tile_map(const std::string& title, const std::vector<Tile>& tiles, const std::string& caption);

}  // namespace pearl::cluster::report
