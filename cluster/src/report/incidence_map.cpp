// Guangdong's cities as tiles, and an incidence table's crude rates on them.
#include "incidence_map.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>

#include "job_charts.hpp"
#include "tile_map.hpp"

namespace pearl::cluster::report {

namespace {

struct CityTile {
  std::uint32_t code;  // GB/T 2260, city level
  const char* pinyin;
  const char* hanzi;
  int row, col;
};

// A tile map, not borders: one equal square per prefecture-level city, placed by its
// rough position so that neighbours stay neighbours — the Pearl River Delta in the
// middle, the Chaoshan cities east, Zhanjiang and Maoming west, the mountains north:
//
//        0          1          2          3          4          5          6
//   0                          Qingyuan   Shaoguan   Heyuan     Meizhou
//   1               Yunfu      Zhaoqing   Guangzhou  Huizhou    Jieyang    Chaozhou
//   2    Maoming    Jiangmen   Foshan     Dongguan   Shenzhen   Shanwei    Shantou
//   3    Zhanjiang  Yangjiang  Zhongshan  Zhuhai
constexpr CityTile kCities[] = {
    {440100, "Guangzhou", "广州", 1, 3}, {440200, "Shaoguan", "韶关", 0, 3},  {440300, "Shenzhen", "深圳", 2, 4},
    {440400, "Zhuhai", "珠海", 3, 3},    {440500, "Shantou", "汕头", 2, 6},   {440600, "Foshan", "佛山", 2, 2},
    {440700, "Jiangmen", "江门", 2, 1},  {440800, "Zhanjiang", "湛江", 3, 0}, {440900, "Maoming", "茂名", 2, 0},
    {441200, "Zhaoqing", "肇庆", 1, 2},  {441300, "Huizhou", "惠州", 1, 4},   {441400, "Meizhou", "梅州", 0, 5},
    {441500, "Shanwei", "汕尾", 2, 5},   {441600, "Heyuan", "河源", 0, 4},    {441700, "Yangjiang", "阳江", 3, 1},
    {441800, "Qingyuan", "清远", 0, 2},  {441900, "Dongguan", "东莞", 2, 3},  {442000, "Zhongshan", "中山", 3, 2},
    {445100, "Chaozhou", "潮州", 1, 6},  {445200, "Jieyang", "揭阳", 1, 5},   {445300, "Yunfu", "云浮", 1, 1},
};

struct CitySum {
  double cases = 0, population = 0;
  bool suppressed = false;
};

/// 100000 -> "100 000": the rate's unit as the job's --per gave it.
std::string grouped(double v) {
  const std::string digits = std::to_string(std::llround(v));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ' ';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string incidence_map(const Frame& f, double per) {
  const Column *region = f.find("region_code"), *cases = f.find("cases"), *population = f.find("population"),
               *suppressed = f.find("suppressed");
  if (region == nullptr || cases == nullptr || population == nullptr || region->text || cases->text ||
      population->text || f.read == 0) {
    return {};
  }
  // The stratum: every key but the region. The one with the most cases is mapped.
  std::vector<const Column*> strata;
  for (const Column* k : key_columns(f)) {
    if (k != region) strata.push_back(k);
  }
  const auto stratum = row_labels(f, strata);
  std::map<std::string, double> stratum_cases;
  for (std::size_t i = 0; i < f.read; ++i) stratum_cases[stratum[i]] += std::max(0.0, cases->num[i]);
  std::string chosen = stratum_cases.begin()->first;
  for (const auto& [s, n] : stratum_cases) {
    if (n > stratum_cases[chosen]) chosen = s;
  }
  // County rows (--region-level county) add up to their city: cases and population both.
  std::map<std::uint32_t, CitySum> sums;
  for (std::size_t i = 0; i < f.read; ++i) {
    if (stratum[i] != chosen || !(region->num[i] >= 0)) continue;
    auto& c = sums[static_cast<std::uint32_t>(region->num[i]) / 100 * 100];
    // A suppressed cell publishes -1 cases: the city's count is unknown, not smaller.
    if (cases->num[i] < 0 || (suppressed != nullptr && suppressed->num[i] > 0)) c.suppressed = true;
    c.cases += cases->num[i];
    c.population += population->num[i];
  }
  const std::string unit = "per " + grouped(per);
  std::vector<Tile> tiles;
  bool any = false;
  for (const auto& city : kCities) {
    Tile t;
    t.name = city.pinyin;
    t.row = city.row, t.col = city.col;
    const std::string who = std::string(city.hanzi) + " " + city.pinyin + " (" + std::to_string(city.code) + "): ";
    const auto it = sums.find(city.code);
    if (it == sums.end()) {
      t.tooltip = who + "no data";
    } else if (it->second.suppressed) {
      any = true;
      t.missing = "suppressed";
      t.tooltip = who + "suppressed (a small cell: fewer cases than --min-cell)";
    } else if (it->second.population > 0) {
      any = true;
      t.value = it->second.cases / it->second.population * per;
      char buf[160];
      std::snprintf(buf, sizeof buf, "%.4g %s (%.0f cases, population %.0f)", t.value, unit.c_str(),
                    it->second.cases, it->second.population);
      t.tooltip = who + buf;
    } else {
      any = true;
      t.missing = "no population";
      t.tooltip = who + "no population";
    }
    tiles.push_back(std::move(t));
  }
  if (!any) return {};
  std::string which = "all rows";
  if (!strata.empty()) {
    which.clear();
    std::size_t row = 0;
    while (stratum[row] != chosen) ++row;
    for (const Column* k : strata) which += (which.empty() ? "" : ", ") + k->name + " " + k->cell(row);
    which += " (the stratum with the most cases; the ranked chart and the table list every stratum)";
  }
  return tile_map("Crude incidence " + unit + " by city: tile map of Guangdong", tiles,
                  "Cases / population x " + grouped(per) + " for " + which +
                      "; county rows are summed into their city. A tile map, not borders: each "
                      "prefecture-level city is one equal square placed by its rough position. Grey: "
                      "not in this output.");
}

}  // namespace pearl::cluster::report
