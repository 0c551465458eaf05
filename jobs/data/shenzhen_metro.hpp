// jobs/data/shenzhen_metro.hpp — Shenzhen Metro lines 1–5: real station sequences and
// approximate WGS-84 coordinates, network distances and the fare rule.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pearl::jobs::data {

struct MetroStation {
  std::uint32_t id;    // line × 100 + position on the line (1-based): 101 = Luohu on line 1
  std::uint16_t line;  // 1..5
  std::string name;    // Chinese name (UTF-8)
  double lon, lat;     // WGS-84, approximate
  std::size_t node;    // physical station (interchanges share one node)
};

/// Every line-station, ordered by line then position.
const std::vector<MetroStation>& metro_stations();
/// Number of physical stations (graph nodes).
std::size_t metro_nodes();
/// Shortest network distance in km between two physical stations (track ≈ 1.15 × straight line).
double metro_km(std::size_t from_node, std::size_t to_node);
/// Shenzhen Metro fare in yuan for a trip of `km` network kilometres: 2 yuan up to 4 km, then
/// +1 per 4 km to 12 km, +1 per 6 km to 24 km, +1 per 8 km beyond.
double metro_fare(double km);
/// Great-circle distance in km.
double haversine_km(double lon1, double lat1, double lon2, double lat2);

}  // namespace pearl::jobs::data
