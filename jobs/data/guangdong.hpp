// jobs/data/guangdong.hpp — Guangdong's 21 cities and their county-level divisions
// (GB/T 2260 codes), with approximate 2020-census populations and a few economic
// parameters the generators use (docs/data-generator.md lists the sources and values).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common.hpp"

namespace pearl::jobs::data {

struct City {
  std::uint32_t code;
  const char* name;
  double population;  // persons (2020 census, approximate)
  double avg_wage;    // yuan per month, urban non-private units (approximate 2022)
  double min_wage;    // yuan per month (2021 Guangdong tiers)
  bool pearl_delta;   // Pearl River Delta (lower unemployment, higher wages)
};

struct County {
  std::uint32_t code;
  const char* name;
  double population;  // persons, scaled so a city's counties sum to the city
  std::size_t city;   // index into cities()
};

const std::vector<City>& cities();
const std::vector<County>& counties();
/// Index of a county code in counties(); throws for an unknown code.
std::size_t county_index(std::uint32_t code);

/// County sampler weighted by population.
const Weighted& county_by_population();

/// Guangdong's age–sex pyramid (2020 census, approximate): share of the population in
/// 5-year group g (0..17), and the male share within it.
const std::array<double, 18>& age_group_share();
double male_share(int age_group);
/// Age in years drawn from the pyramid restricted to groups [first, last].
int sample_age(Rng& r, int first_group = 0, int last_group = 17);

}  // namespace pearl::jobs::data
