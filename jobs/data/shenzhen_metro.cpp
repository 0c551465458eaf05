// Shenzhen Metro lines 1 (Luobao), 2 (Shekou, with its line-8 continuation), 3 (Longgang),
// 4 (Longhua) and 5 (Huanzhong): station order as operated, coordinates approximate.
#include "shenzhen_metro.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <numbers>

namespace pearl::jobs::data {
namespace {

struct Stop {
  const char* name;
  double lon, lat;
};

const std::vector<std::vector<Stop>> kLines = {
    {// Line 1
     {"罗湖", 114.1187, 22.5316}, {"国贸", 114.1185, 22.5397}, {"老街", 114.1160, 22.5450},
     {"大剧院", 114.1040, 22.5440}, {"科学馆", 114.0950, 22.5430}, {"华强路", 114.0880, 22.5420},
     {"岗厦", 114.0660, 22.5340}, {"会展中心", 114.0560, 22.5330}, {"购物公园", 114.0500, 22.5340},
     {"香蜜湖", 114.0360, 22.5370}, {"车公庙", 114.0250, 22.5350}, {"竹子林", 114.0120, 22.5370},
     {"侨城东", 113.9950, 22.5380}, {"华侨城", 113.9860, 22.5390}, {"世界之窗", 113.9735, 22.5370},
     {"白石洲", 113.9630, 22.5380}, {"高新园", 113.9520, 22.5410}, {"深大", 113.9400, 22.5410},
     {"桃园", 113.9260, 22.5400}, {"大新", 113.9160, 22.5430}, {"鲤鱼门", 113.9030, 22.5400},
     {"前海湾", 113.8930, 22.5400}, {"新安", 113.8880, 22.5520}, {"宝安中心", 113.8830, 22.5620},
     {"宝体", 113.8780, 22.5700}, {"坪洲", 113.8700, 22.5780}, {"西乡", 113.8640, 22.5870},
     {"固戍", 113.8540, 22.5980}, {"后瑞", 113.8450, 22.6150}, {"机场东", 113.8360, 22.6290}},
    {// Line 2
     {"赤湾", 113.8830, 22.4830}, {"蛇口港", 113.9090, 22.4860}, {"海上世界", 113.9150, 22.4860},
     {"水湾", 113.9200, 22.4930}, {"东角头", 113.9260, 22.4930}, {"湾厦", 113.9300, 22.4990},
     {"海月", 113.9330, 22.5080}, {"登良", 113.9380, 22.5140}, {"后海", 113.9440, 22.5200},
     {"科苑", 113.9490, 22.5270}, {"红树湾", 113.9570, 22.5230}, {"世界之窗", 113.9735, 22.5370},
     {"侨城北", 113.9850, 22.5440}, {"深康", 113.9960, 22.5480}, {"安托山", 114.0050, 22.5480},
     {"侨香", 114.0150, 22.5470}, {"香蜜", 114.0270, 22.5470}, {"香梅北", 114.0370, 22.5530},
     {"景田", 114.0420, 22.5530}, {"莲花西", 114.0500, 22.5470}, {"福田", 114.0555, 22.5410},
     {"市民中心", 114.0580, 22.5440}, {"岗厦北", 114.0660, 22.5410}, {"华强北", 114.0850, 22.5450},
     {"燕南", 114.0930, 22.5450}, {"大剧院", 114.1040, 22.5440}, {"湖贝", 114.1200, 22.5470},
     {"黄贝岭", 114.1320, 22.5470}, {"新秀", 114.1430, 22.5500}, {"莲塘口岸", 114.1560, 22.5570},
     {"仙湖路", 114.1650, 22.5600}, {"莲塘", 114.1700, 22.5640}},
    {// Line 3
     {"益田", 114.0500, 22.5150}, {"石厦", 114.0510, 22.5270}, {"购物公园", 114.0500, 22.5340},
     {"福田", 114.0555, 22.5410}, {"少年宫", 114.0560, 22.5560}, {"莲花村", 114.0650, 22.5530},
     {"华新", 114.0770, 22.5500}, {"通新岭", 114.0900, 22.5480}, {"红岭", 114.1010, 22.5480},
     {"老街", 114.1160, 22.5450}, {"晒布", 114.1220, 22.5550}, {"翠竹", 114.1260, 22.5590},
     {"田贝", 114.1210, 22.5650}, {"水贝", 114.1160, 22.5710}, {"草埔", 114.1160, 22.5860},
     {"布吉", 114.1180, 22.6030}, {"木棉湾", 114.1320, 22.6070}, {"大芬", 114.1390, 22.6110},
     {"丹竹头", 114.1500, 22.6130}, {"六约", 114.1650, 22.6170}, {"塘坑", 114.1780, 22.6260},
     {"横岗", 114.2000, 22.6390}, {"永湖", 114.2130, 22.6470}, {"荷坳", 114.2280, 22.6610},
     {"大运", 114.2360, 22.6950}, {"爱联", 114.2420, 22.7020}, {"吉祥", 114.2500, 22.7120},
     {"龙城广场", 114.2600, 22.7220}, {"南联", 114.2700, 22.7230}, {"双龙", 114.2840, 22.7270}},
    {// Line 4
     {"福田口岸", 114.0700, 22.5170}, {"福民", 114.0700, 22.5260}, {"会展中心", 114.0560, 22.5330},
     {"市民中心", 114.0580, 22.5440}, {"少年宫", 114.0560, 22.5560}, {"莲花北", 114.0570, 22.5630},
     {"上梅林", 114.0600, 22.5700}, {"民乐", 114.0440, 22.5910}, {"白石龙", 114.0350, 22.5990},
     {"深圳北站", 114.0295, 22.6096}, {"红山", 114.0270, 22.6230}, {"上塘", 114.0330, 22.6320},
     {"龙胜", 114.0380, 22.6440}, {"龙华", 114.0360, 22.6560}, {"清湖", 114.0320, 22.6700},
     {"清湖北", 114.0290, 22.6820}, {"竹村", 114.0330, 22.6930}, {"茜坑", 114.0370, 22.7030},
     {"长湖", 114.0390, 22.7130}, {"观澜", 114.0400, 22.7250}, {"松元厦", 114.0470, 22.7340},
     {"观澜湖", 114.0550, 22.7440}, {"牛湖", 114.0630, 22.7560}},
    {// Line 5
     {"前海湾", 113.8930, 22.5400}, {"临海", 113.8960, 22.5530}, {"宝华", 113.8900, 22.5580},
     {"宝安中心", 113.8830, 22.5620}, {"翻身", 113.8930, 22.5680}, {"灵芝", 113.9020, 22.5750},
     {"洪浪北", 113.9140, 22.5820}, {"兴东", 113.9230, 22.5870}, {"留仙洞", 113.9380, 22.5860},
     {"西丽", 113.9530, 22.5840}, {"大学城", 113.9700, 22.5880}, {"塘朗", 113.9920, 22.5920},
     {"长岭陂", 114.0050, 22.5980}, {"深圳北站", 114.0295, 22.6096}, {"民治", 114.0420, 22.6140},
     {"五和", 114.0660, 22.6290}, {"坂田", 114.0750, 22.6280}, {"杨美", 114.0880, 22.6260},
     {"上水径", 114.1000, 22.6200}, {"下水径", 114.1080, 22.6160}, {"长龙", 114.1140, 22.6100},
     {"布吉", 114.1180, 22.6030}, {"百鸽笼", 114.1200, 22.5920}, {"布心", 114.1280, 22.5850},
     {"太安", 114.1250, 22.5760}, {"怡景", 114.1290, 22.5660}, {"黄贝岭", 114.1320, 22.5470}},
};

struct Network {
  std::vector<MetroStation> stations;
  std::size_t nodes = 0;
  std::vector<double> km;  // nodes × nodes
};

const Network& network() {
  static const Network n = [] {
    Network net;
    std::map<std::string, std::size_t> node_of;
    std::vector<std::pair<double, double>> where;
    for (std::size_t l = 0; l < kLines.size(); ++l) {
      for (std::size_t s = 0; s < kLines[l].size(); ++s) {
        const Stop& stop = kLines[l][s];
        auto [it, added] = node_of.emplace(stop.name, node_of.size());
        if (added) where.emplace_back(stop.lon, stop.lat);
        const auto& [lon, lat] = where[it->second];  // interchanges: one position
        net.stations.push_back({static_cast<std::uint32_t>((l + 1) * 100 + s + 1), static_cast<std::uint16_t>(l + 1),
                                stop.name, lon, lat, it->second});
      }
    }
    const std::size_t n_nodes = node_of.size();
    net.nodes = n_nodes;
    const double inf = std::numeric_limits<double>::infinity();
    net.km.assign(n_nodes * n_nodes, inf);
    for (std::size_t i = 0; i < n_nodes; ++i) net.km[i * n_nodes + i] = 0;
    for (std::size_t i = 1; i < net.stations.size(); ++i) {
      const auto& a = net.stations[i - 1];
      const auto& b = net.stations[i];
      if (a.line != b.line) continue;
      const double d = 1.15 * haversine_km(a.lon, a.lat, b.lon, b.lat);
      net.km[a.node * n_nodes + b.node] = std::min(net.km[a.node * n_nodes + b.node], d);
      net.km[b.node * n_nodes + a.node] = std::min(net.km[b.node * n_nodes + a.node], d);
    }
    for (std::size_t k = 0; k < n_nodes; ++k) {  // Floyd–Warshall over ~130 nodes
      for (std::size_t i = 0; i < n_nodes; ++i) {
        for (std::size_t j = 0; j < n_nodes; ++j) {
          const double via = net.km[i * n_nodes + k] + net.km[k * n_nodes + j];
          if (via < net.km[i * n_nodes + j]) net.km[i * n_nodes + j] = via;
        }
      }
    }
    return net;
  }();
  return n;
}

}  // namespace

const std::vector<MetroStation>& metro_stations() { return network().stations; }
std::size_t metro_nodes() { return network().nodes; }
double metro_km(std::size_t from, std::size_t to) { return network().km[from * network().nodes + to]; }

double metro_fare(double km) {
  double fare = 2;
  if (km > 4) fare += std::ceil((std::min(km, 12.0) - 4) / 4);
  if (km > 12) fare += std::ceil((std::min(km, 24.0) - 12) / 6);
  if (km > 24) fare += std::ceil((km - 24) / 8);
  return fare;
}

double haversine_km(double lon1, double lat1, double lon2, double lat2) {
  constexpr double r = 6371.0;
  constexpr double rad = std::numbers::pi / 180;
  const double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * rad) * std::cos(lat2 * rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * r * std::asin(std::sqrt(a));
}

}  // namespace pearl::jobs::data
