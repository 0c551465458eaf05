// incidence_map.hpp — `health.incidence` on a tile map of Guangdong's 21 prefecture-level
// cities (tile_map.hpp): each city's crude incidence, county rows summed into their city.
//
//   std::string svg = incidence_map(frame, 100000);   // "" when the table has no Guangdong city
#pragma once

#include <string>

#include "frame.hpp"

namespace pearl::cluster::report {

/// The map of an incidence table (region_code, cases, population and any other keys).
/// A stratified table (by disease, year, sex) is mapped for its stratum with the most
/// cases, named in the caption. "" without region_code, cases or population, or when no
/// region code falls in one of Guangdong's cities. `per`: the job's --per, the rates' unit.
std::string incidence_map(const Frame& f, double per);

}  // namespace pearl::cluster::report
