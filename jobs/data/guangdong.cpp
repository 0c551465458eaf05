// Guangdong's cities and counties. Populations: 2020 census (7th), rounded; county
// figures are approximate and rescaled to their city's total.
#include "guangdong.hpp"

#include <map>
#include <stdexcept>
#include <string>

namespace pearl::jobs::data {
namespace {

struct RawCounty {
  std::uint32_t code;
  const char* name;
  double pop_10k;
};

const std::vector<City> g_cities = {
    // code, name, population, average wage, minimum wage, Pearl River Delta
    {440100, "Guangzhou", 18'676'605, 12'000, 2'300, true},
    {440200, "Shaoguan", 2'855'131, 6'500, 1'620, false},
    {440300, "Shenzhen", 17'560'061, 13'000, 2'360, true},
    {440400, "Zhuhai", 2'439'585, 10'000, 1'900, true},
    {440500, "Shantou", 5'502'031, 6'800, 1'720, false},
    {440600, "Foshan", 9'498'863, 9'000, 1'900, true},
    {440700, "Jiangmen", 4'798'090, 7'500, 1'720, true},
    {440800, "Zhanjiang", 6'981'236, 6'500, 1'620, false},
    {440900, "Maoming", 6'174'050, 6'300, 1'620, false},
    {441200, "Zhaoqing", 4'113'594, 7'000, 1'720, true},
    {441300, "Huizhou", 6'042'852, 8'000, 1'720, true},
    {441400, "Meizhou", 3'873'239, 6'200, 1'620, false},
    {441500, "Shanwei", 2'672'819, 6'200, 1'620, false},
    {441600, "Heyuan", 2'837'686, 6'200, 1'620, false},
    {441700, "Yangjiang", 2'602'959, 6'400, 1'620, false},
    {441800, "Qingyuan", 3'969'473, 6'500, 1'620, false},
    {441900, "Dongguan", 10'466'625, 8'000, 1'900, true},
    {442000, "Zhongshan", 4'418'060, 8'000, 1'900, true},
    {445100, "Chaozhou", 2'568'387, 6'200, 1'620, false},
    {445200, "Jieyang", 5'577'814, 6'200, 1'620, false},
    {445300, "Yunfu", 2'383'350, 6'200, 1'620, false},
};

// County-level divisions (GB/T 2260) with approximate populations in 10 000s.
const std::vector<RawCounty> g_raw = {
    {440103, "Liwan", 123.8}, {440104, "Yuexiu", 103.9}, {440105, "Haizhu", 181.9}, {440106, "Tianhe", 224.2},
    {440111, "Baiyun", 374.3}, {440112, "Huangpu", 126.4}, {440113, "Panyu", 265.9}, {440114, "Huadu", 164.2},
    {440115, "Nansha", 84.7}, {440117, "Conghua", 72.0}, {440118, "Zengcheng", 146.6},
    {440203, "Wujiang", 37}, {440204, "Zhenjiang", 41}, {440205, "Qujiang", 29}, {440222, "Shixing", 20},
    {440224, "Renhua", 18}, {440229, "Wengyuan", 33}, {440232, "Ruyuan", 17}, {440233, "Xinfeng", 20},
    {440281, "Lechang", 40}, {440282, "Nanxiong", 33},
    {440303, "Luohu", 114.4}, {440304, "Futian", 155.3}, {440305, "Nanshan", 179.6}, {440306, "Bao'an", 447.7},
    {440307, "Longgang", 397.9}, {440308, "Yantian", 21.5}, {440309, "Longhua", 252.9}, {440310, "Pingshan", 55.1},
    {440311, "Guangming", 109.5},
    {440402, "Xiangzhou", 145.6}, {440403, "Doumen", 60.9}, {440404, "Jinwan", 37.5},
    {440507, "Longhu", 60}, {440511, "Jinping", 80}, {440512, "Haojiang", 29}, {440513, "Chaoyang", 165},
    {440514, "Chaonan", 140}, {440515, "Chenghai", 80}, {440523, "Nan'ao", 6},
    {440604, "Chancheng", 140}, {440605, "Nanhai", 366}, {440606, "Shunde", 325}, {440607, "Sanshui", 80},
    {440608, "Gaoming", 48},
    {440703, "Pengjiang", 95}, {440704, "Jianghai", 35}, {440705, "Xinhui", 95}, {440781, "Taishan", 90},
    {440783, "Kaiping", 70}, {440784, "Heshan", 53}, {440785, "Enping", 48},
    {440802, "Chikan", 45}, {440803, "Xiashan", 50}, {440804, "Potou", 35}, {440811, "Mazhang", 40},
    {440823, "Suixi", 80}, {440825, "Xuwen", 60}, {440881, "Lianjiang", 140}, {440882, "Leizhou", 140},
    {440883, "Wuchuan", 95},
    {440902, "Maonan", 90}, {440904, "Dianbai", 160}, {440981, "Gaozhou", 130}, {440982, "Huazhou", 120},
    {440983, "Xinyi", 100},
    {441202, "Duanzhou", 60}, {441203, "Dinghu", 20}, {441204, "Gaoyao", 75}, {441223, "Guangning", 45},
    {441224, "Huaiji", 80}, {441225, "Fengkai", 40}, {441226, "Deqing", 33}, {441284, "Sihui", 55},
    {441302, "Huicheng", 140}, {441303, "Huiyang", 90}, {441322, "Boluo", 125}, {441323, "Huidong", 100},
    {441324, "Longmen", 33},
    {441402, "Meijiang", 40}, {441403, "Meixian", 55}, {441422, "Dabu", 35}, {441423, "Fengshun", 50},
    {441424, "Wuhua", 100}, {441426, "Pingyuan", 20}, {441427, "Jiaoling", 20}, {441481, "Xingning", 70},
    {441502, "Chengqu", 55}, {441521, "Haifeng", 75}, {441523, "Luhe", 25}, {441581, "Lufeng", 130},
    {441602, "Yuancheng", 60}, {441621, "Zijin", 65}, {441622, "Longchuan", 70}, {441623, "Lianping", 30},
    {441624, "Heping", 35}, {441625, "Dongyuan", 40},
    {441702, "Jiangcheng", 70}, {441704, "Yangdong", 45}, {441721, "Yangxi", 45}, {441781, "Yangchun", 100},
    {441802, "Qingcheng", 80}, {441803, "Qingxin", 70}, {441821, "Fogang", 30}, {441823, "Yangshan", 35},
    {441825, "Lianshan", 10}, {441826, "Liannan", 14}, {441881, "Yingde", 95}, {441882, "Lianzhou", 40},
    {441900, "Dongguan", 1}, {442000, "Zhongshan", 1},
    {445102, "Xiangqiao", 60}, {445103, "Chao'an", 110}, {445122, "Raoping", 85},
    {445202, "Rongcheng", 110}, {445203, "Jiedong", 85}, {445222, "Jiexi", 70}, {445224, "Huilai", 110},
    {445281, "Puning", 200},
    {445302, "Yuncheng", 40}, {445303, "Yun'an", 25}, {445321, "Xinxing", 45}, {445322, "Yunan", 40},
    {445381, "Luoding", 90},
};

std::uint32_t city_of(std::uint32_t county) {
  return county == 441900 || county == 442000 ? county : county / 100 * 100;
}

std::vector<County> make_counties() {
  std::map<std::uint32_t, std::size_t> city_index;
  for (std::size_t i = 0; i < g_cities.size(); ++i) city_index[g_cities[i].code] = i;
  std::vector<double> sums(g_cities.size(), 0.0);
  for (const auto& c : g_raw) sums.at(city_index.at(city_of(c.code))) += c.pop_10k;
  std::vector<County> out;
  for (const auto& c : g_raw) {
    const std::size_t ci = city_index.at(city_of(c.code));
    out.push_back({c.code, c.name, std::round(g_cities[ci].population * c.pop_10k / sums[ci]), ci});
  }
  return out;
}

// Share of each 5-year age group (0–4 … 80–84, 85+), Guangdong 2020, approximate.
constexpr std::array<double, 18> kAgeShare = {6.3, 6.6, 5.9, 5.0, 6.2, 8.6, 10.6, 9.3, 8.0,
                                                7.9, 6.9, 5.0, 3.9, 3.6, 2.5, 1.6, 1.1, 0.9};

}  // namespace

const std::vector<City>& cities() { return g_cities; }

const std::vector<County>& counties() {
  static const std::vector<County> c = make_counties();
  return c;
}

std::size_t county_index(std::uint32_t code) {
  static const auto index = [] {
    std::map<std::uint32_t, std::size_t> m;
    for (std::size_t i = 0; i < counties().size(); ++i) m[counties()[i].code] = i;
    return m;
  }();
  const auto it = index.find(code);
  if (it == index.end()) throw std::out_of_range("unknown county code " + std::to_string(code));
  return it->second;
}

const Weighted& county_by_population() {
  static const Weighted w = [] {
    std::vector<double> p;
    for (const auto& c : counties()) p.push_back(c.population);
    return Weighted(p);
  }();
  return w;
}

const std::array<double, 18>& age_group_share() {
  static const std::array<double, 18> s = [] {
    double total = 0;
    for (const double x : kAgeShare) total += x;
    std::array<double, 18> a{};
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = kAgeShare[i] / total;
    return a;
  }();
  return s;
}

double male_share(int g) {
  if (g <= 3) return 0.535;  // sex ratio at birth ~ 1.15 in the 2000s–2010s
  if (g <= 11) return 0.53;  // working ages: male-majority migration into the Delta
  if (g <= 14) return 0.49;
  if (g <= 16) return 0.45;
  return 0.38;
}

int sample_age(Rng& r, int first_group, int last_group) {
  const auto& s = age_group_share();
  double total = 0;
  for (int g = first_group; g <= last_group; ++g) total += s[static_cast<std::size_t>(g)];
  double u = r.uniform() * total;
  int g = first_group;
  for (; g < last_group; ++g) {
    u -= s[static_cast<std::size_t>(g)];
    if (u < 0) break;
  }
  return g * 5 + (g == 17 ? r.between(0, 14) : r.between(0, 4));
}

}  // namespace pearl::jobs::data
