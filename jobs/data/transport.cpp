// Transport domain: Shenzhen Metro stations, smart-card taps forming trips on the network,
// and taxi GPS pings with rush-hour congestion and some dirty records.
// Models: docs/data-generator.md ("Transport").
#include <array>

#include "shenzhen_metro.hpp"
#include "common.hpp"

namespace pearl::jobs::data {
namespace {

constexpr std::int32_t kFirstDay = day_of(2023, 9, 4);  // Monday; one week
constexpr int kDays = 7;

std::int64_t utc(std::int32_t day, double local_seconds) {
  return static_cast<std::int64_t>(day) * 86400 + static_cast<std::int64_t>(std::llround(local_seconds)) - 28800;
}

struct Cbd {
  double lon, lat;
};
constexpr std::array<Cbd, 4> kCbds = {{{114.0555, 22.5410},   // Futian
                                        {113.9520, 22.5410},   // Nanshan high-tech park
                                        {114.1187, 22.5316},   // Luohu
                                        {114.0295, 22.6096}}};  // Shenzhen North

/// Stations grouped by physical node, and work-place weights of the nodes.
struct Metro {
  std::vector<std::vector<std::size_t>> by_node;  // node → indices into metro_stations()
  Weighted work, home;
};

const Metro& metro() {
  static const Metro m = [] {
    Metro x;
    x.by_node.resize(metro_nodes());
    std::vector<double> work(metro_nodes(), 0), home(metro_nodes(), 1);
    const auto& st = metro_stations();
    for (std::size_t i = 0; i < st.size(); ++i) {
      x.by_node[st[i].node].push_back(i);
      double near = 1e9;
      for (const auto& c : kCbds) near = std::min(near, haversine_km(st[i].lon, st[i].lat, c.lon, c.lat));
      work[st[i].node] = 1 + 6 * std::exp(-near / 2);
    }
    x.work = Weighted(work);
    x.home = Weighted(home);
    return x;
  }();
  return m;
}

struct Tap {
  std::int64_t time;
  std::uint32_t station;
  std::uint16_t line;
  std::uint8_t type;
  double fare;
};

/// One metro trip (with, sometimes, a feeder bus before it); a few lose a tap.
void trip(Rng& r, std::int32_t day, double local, std::size_t from, std::size_t to, std::uint16_t bus_route,
          std::vector<Tap>& out) {
  const auto& m = metro();
  const auto& st = metro_stations();
  if (r.chance(0.002)) to = from;  // entered and left at the same station
  const auto& a = st[m.by_node[from][r.below(m.by_node[from].size())]];
  const auto& b = st[m.by_node[to][r.below(m.by_node[to].size())]];
  const double km = metro_km(from, to);
  const double minutes = 4 + 1.9 * km + 1.5 * std::fabs(r.normal());
  if (r.chance(0.2)) {
    const double before = 60.0 * (8 + 17 * r.uniform());
    out.push_back({utc(day, local - before), 10000U + bus_route, bus_route, 3, 2.0});
  }
  const double u = r.uniform();
  if (u >= 0.005) out.push_back({utc(day, local), a.id, a.line, 1, 0.0});               // lost entry: 0.5%
  if (u < 0.005 || u >= 0.015) {                                                        // lost exit: 1%
    out.push_back({utc(day, local + 60 * minutes), b.id, b.line, 2, metro_fare(km)});
  }
}

void card_week(Rng& r, std::vector<Tap>& out) {
  const auto& m = metro();
  const bool commuter = r.chance(0.75);
  const std::size_t home = m.home.pick(r);
  std::size_t work = m.work.pick(r);
  if (work == home) work = m.work.pick(r);
  const auto bus = static_cast<std::uint16_t>(1 + r.below(400));
  auto clamp_h = [](double h, double lo, double hi) { return 3600 * std::clamp(h, lo, hi); };
  for (int d = 0; d < kDays; ++d) {
    const std::int32_t day = kFirstDay + d;
    const bool weekday = d < 5;
    if (commuter && weekday && r.chance(0.92)) {
      trip(r, day, clamp_h(8.0 + 0.75 * r.normal(), 6.0, 10.5), home, work, bus, out);
      if (r.chance(0.15)) {
        const std::size_t x = m.work.pick(r);
        const double t = clamp_h(12.5 + 1.5 * r.normal(), 11, 15);
        trip(r, day, t, work, x, bus, out);
        trip(r, day, t + 3600 * (0.5 + r.uniform()), x, work, bus, out);
      }
      trip(r, day, clamp_h(18.5 + 1.15 * r.normal(), 16.5, 23.0), work, home, bus, out);
    } else if (r.chance(commuter ? 0.4 : 0.35)) {
      const std::size_t x = r.chance(0.5) ? m.work.pick(r) : m.home.pick(r);
      const double t = 3600 * (9 + 9 * r.uniform());
      if (x == home) continue;
      trip(r, day, t, home, x, bus, out);
      trip(r, day, std::min(t + 3600 * (2 + 4 * r.uniform()), 3600 * 23.5), x, home, bus, out);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Tap& x, const Tap& y) { return x.time != y.time ? x.time < y.time : x.type < y.type; });
}

OutputTable make_taps(const Params& p, std::uint64_t k) {
  OutputTable t = shard_table(p, "taps", {{"card_id", DType::u64}, {"tap_time", DType::i64}, {"station_id", DType::u32},
                         {"line_id", DType::u16}, {"tap_type", DType::u8}, {"fare", DType::f64}});
  const auto bounds = split_rows(p.rows, p.shards);
  const std::uint64_t quota = bounds[k + 1] - bounds[k];
  std::vector<Tap> taps;
  for (std::uint64_t j = 0; t.total_rows() < quota; ++j) {
    Rng r(key({p.seed, tag("transport.card"), k, j}));
    const std::uint64_t card = mix64(key({p.seed, tag("transport.card_id"), k, j}));
    taps.clear();
    card_week(r, taps);
    for (const auto& x : taps) {
      if (t.total_rows() == quota) break;
      t.append(card, x.time, x.station, x.line, x.type, x.fare);
    }
  }
  return t;
}

/// Speed factor by local hour: morning and evening rush hours, free night roads.
double congestion(double hour) {
  auto bump = [&](double c, double w) { return std::exp(-0.5 * ((hour - c) / w) * ((hour - c) / w)); };
  return (1 - 0.55 * bump(8.25, 0.8) - 0.5 * bump(18.5, 1.0)) * (hour < 6 ? 1.25 : 1.0);
}

OutputTable make_gps(const Params& p, std::uint64_t k) {
  OutputTable t = shard_table(p, "gps", {{"vehicle_id", DType::u64}, {"time", DType::i64}, {"lon", DType::f64}, {"lat", DType::f64},
                        {"speed_kmh", DType::f32}, {"occupied", DType::u8}});
  const auto bounds = split_rows(p.rows, p.shards);
  const std::uint64_t quota = bounds[k + 1] - bounds[k];
  const auto& st = metro_stations();
  auto round6 = [](double v) { return std::round(v * 1e6) / 1e6; };
  for (std::uint64_t j = 0; t.total_rows() < quota; ++j) {
    Rng r(key({p.seed, tag("transport.vehicle"), k, j}));
    const std::uint64_t vehicle = mix64(key({p.seed, tag("transport.vehicle_id"), k, j}));
    const std::int32_t day = kFirstDay + static_cast<std::int32_t>(r.below(kDays));
    double clock = 6 * 3600.0 + 7200 * r.uniform();
    const auto& s0 = st[r.below(st.size())];
    double lon = s0.lon + 0.01 * (r.uniform() - 0.5), lat = s0.lat + 0.01 * (r.uniform() - 0.5);
    std::uint8_t occupied = 0;
    double dwell = 0;
    auto next_target = [&] {
      const auto& s = st[r.below(st.size())];
      return std::pair{s.lon + 0.03 * (r.uniform() - 0.5), s.lat + 0.03 * (r.uniform() - 0.5)};
    };
    auto [tlon, tlat] = next_target();
    while (clock < 24 * 3600.0 && t.total_rows() < quota) {
      const double dt = 20 + static_cast<double>(r.below(41));
      clock += dt;
      double speed = 0;
      if (dwell > 0) {
        dwell -= dt;
      } else {
        const double central = haversine_km(lon, lat, 114.0555, 22.5410) < 4 ? 0.85 : 1.0;
        speed = std::max(3.0, 42 * congestion(clock / 3600) * central * (1 + 0.15 * r.normal()));
        double km = speed * dt / 3600;
        // Grid-like roads: along the longitude first, then the latitude.
        const double km_lon = 111.32 * std::cos(lat * std::numbers::pi / 180), km_lat = 110.57;
        const double dx = (tlon - lon) * km_lon;
        const double step_x = std::clamp(dx, -km, km);
        lon += step_x / km_lon;
        km -= std::fabs(step_x);
        const double dy = (tlat - lat) * km_lat;
        lat += std::clamp(dy, -km, km) / km_lat;
        if (std::fabs(tlon - lon) < 1e-9 && std::fabs(tlat - lat) < 1e-9) {  // arrived: pick-up or drop-off
          dwell = 60 + 240 * r.uniform();
          occupied = occupied == 1 ? 0 : (r.chance(0.7) ? 1 : 0);
          std::tie(tlon, tlat) = next_target();
        }
      }
      const std::int64_t time = utc(day, clock);
      auto v = static_cast<float>(std::round(speed * 10) / 10);
      double plon = round6(lon), plat = round6(lat);
      const double u = r.uniform();
      if (u < 0.003) {  // GPS glitch: (0, 0) or a jump out of the city
        plon = u < 0.0015 ? 0.0 : plon + 1.2;
        plat = u < 0.0015 ? 0.0 : plat;
      } else if (u < 0.005) {
        v = u < 0.004 ? -1.0F : static_cast<float>(150 + r.below(100));
      }
      t.append(vehicle, time, plon, plat, v, occupied);
      if (r.chance(0.004) && t.total_rows() < quota) t.append(vehicle, time, plon, plat, v, occupied);  // duplicate
    }
  }
  return t;
}

OutputTable make_stations() {
  OutputTable t("stations", {{"station_id", DType::u32}, {"line_id", DType::u16}, {"name", DType::str},
                             {"lon", DType::f64}, {"lat", DType::f64}});
  for (const auto& s : metro_stations()) t.append(s.id, s.line, s.name, s.lon, s.lat);
  return t;
}

}  // namespace

Domain transport_domain(const Params& p) {
  Domain d;
  d.tables.push_back({"taps", p.shards, [p](std::uint64_t k) { return make_taps(p, k); }});
  d.tables.push_back({"gps", p.shards, [p](std::uint64_t k) { return make_gps(p, k); }});
  d.tables.push_back({"stations", 1, [](std::uint64_t) { return make_stations(); }});
  d.sidecars = [](const std::filesystem::path&) { return std::vector<std::string>{}; };
  return d;
}

}  // namespace pearl::jobs::data
