// Health domain: population (denominators), notifiable-disease cases with seasonality and
// injected outbreaks, annual checkups with a known logistic model for diabetes.
// Models and parameters: docs/data-generator.md ("Health").
#include <array>
#include <cstdio>
#include <sstream>

#include "guangdong.hpp"

namespace pearl::jobs::data {
namespace {

constexpr std::int32_t kFirstDay = day_of(2022, 1, 1);
constexpr std::int32_t kDays = day_of(2024, 1, 1) - kFirstDay;  // 2022–2023

struct Peak {
  double doy, amplitude, width;  // day of year, height over the base, sd in days
};
struct Disease {
  const char* code;
  double share;
  double base;
  std::array<Peak, 3> peaks;
  double year2023;     // relative level in 2023 vs 2022
  double male;         // male share
  int age_model;       // see sample_disease_age
};

// ICD-10 code, share of cases, seasonal base, peaks, 2023 level, male share, age model.
const std::array<Disease, 7> kDiseases = {{
    {"J11", 0.42, 0.30, {{{20, 1.6, 18}, {170, 0.9, 20}, {355, 1.2, 15}}}, 1.4, 0.52, 0},    // influenza
    {"B08.4", 0.20, 0.15, {{{140, 1.5, 25}, {275, 0.7, 22}, {0, 0, 1}}}, 1.1, 0.60, 1},      // hand-foot-mouth
    {"A09", 0.13, 0.50, {{{200, 0.5, 40}, {10, 0.6, 25}, {0, 0, 1}}}, 1.0, 0.55, 2},         // infectious diarrhoea
    {"A15", 0.08, 1.00, {{{80, 0.2, 40}, {0, 0, 1}, {0, 0, 1}}}, 0.96, 0.70, 3},             // tuberculosis
    {"B01", 0.07, 0.30, {{{345, 1.0, 35}, {100, 0.8, 30}, {0, 0, 1}}}, 1.0, 0.55, 4},        // varicella
    {"A90", 0.05, 0.01, {{{270, 1.0, 25}, {0, 0, 1}, {0, 0, 1}}}, 1.2, 0.50, 5},             // dengue
    {"A53.9", 0.05, 1.00, {{{0, 0, 1}, {0, 0, 1}, {0, 0, 1}}}, 1.0, 0.55, 6},                // syphilis
}};

double season(const Disease& d, std::int32_t day) {
  const Date dt = date_of(day);
  const double doy = static_cast<double>(day - day_of(dt.y, 1, 1));
  double w = d.base;
  for (const auto& p : d.peaks) {
    double diff = std::fabs(doy - p.doy);
    diff = std::min(diff, 365.0 - diff);  // circular: December and January are neighbours
    w += p.amplitude * std::exp(-0.5 * (diff / p.width) * (diff / p.width));
  }
  return w * (dt.y == 2023 ? d.year2023 : 1.0);
}

double region_factor(const Disease& d, const County& c) {
  const City& city = cities()[c.city];
  if (std::string_view(d.code) == "A90") {
    switch (city.code) {
      case 440100: return 4.0;
      case 440600: return 3.0;
      case 442000:
      case 440700: return 2.0;
      case 441900: return 1.5;
      case 440300: return 1.0;
      default: return 0.4;
    }
  }
  if (std::string_view(d.code) == "A15") return city.pearl_delta ? 0.8 : 1.6;
  return 1.0;
}

int sample_disease_age(int model, Rng& r) {
  auto normal_age = [&](double mean, double sd, int lo, int hi) {
    return std::clamp(static_cast<int>(std::lround(mean + sd * r.normal())), lo, hi);
  };
  switch (model) {
    case 0: {  // influenza: school children, adults, elderly
      const double u = r.uniform();
      if (u < 0.40) return r.between(3, 14);
      if (u < 0.85) return r.between(15, 64);
      return r.between(65, 90);
    }
    case 1: {  // hand-foot-mouth: under 6, most 1–3
      static const Weighted w({0.10, 0.28, 0.25, 0.18, 0.11, 0.05, 0.03});
      const std::size_t i = w.pick(r);
      return i < 6 ? static_cast<int>(i) : r.between(6, 12);
    }
    case 2: return r.chance(0.4) ? r.between(0, 4) : sample_age(r, 1, 17);  // diarrhoea
    case 3: return normal_age(52, 17, 15, 95);                               // tuberculosis
    case 4: {                                                                // varicella
      const double u = r.uniform();
      return u < 0.7 ? r.between(5, 14) : u < 0.9 ? r.between(0, 4) : r.between(15, 40);
    }
    case 5: return normal_age(42, 16, 2, 90);  // dengue
    default: return normal_age(40, 13, 16, 85);
  }
}

int report_delay(Rng& r) {
  static const Weighted w({0.25, 0.25, 0.18, 0.12, 0.08, 0.06, 0.04, 0.02});
  return static_cast<int>(w.pick(r));
}

/// An injected outbreak: a county × disease × window with extra cases.
struct Outbreak {
  std::uint32_t county;
  std::size_t disease;
  std::int32_t first_day, last_day;
  std::uint64_t cases;
  double baseline;  // expected baseline cases of that county × disease in the window
};

struct Model {
  std::array<Weighted, kDiseases.size()> days;      // over [kFirstDay, +kDays)
  std::array<Weighted, kDiseases.size()> counties;  // population × regional factor
  Weighted disease;
  std::vector<Outbreak> outbreaks;
  std::uint64_t base_cases = 0, stride = 0;
};

std::size_t disease_index(std::string_view code) {
  for (std::size_t i = 0; i < kDiseases.size(); ++i) {
    if (code == kDiseases[i].code) return i;
  }
  return 0;
}

Model make_model(const Params& p) {
  Model m;
  std::vector<double> shares;
  for (std::size_t d = 0; d < kDiseases.size(); ++d) {
    std::vector<double> w;
    for (std::int32_t i = 0; i < kDays; ++i) w.push_back(season(kDiseases[d], kFirstDay + i));
    m.days[d] = Weighted(w);
    std::vector<double> c;
    for (const auto& county : counties()) c.push_back(county.population * region_factor(kDiseases[d], county));
    m.counties[d] = Weighted(c);
    shares.push_back(kDiseases[d].share);
  }
  m.disease = Weighted(shares);

  // Four realistic scenarios; the seed picks the county among candidates and the start.
  struct Scenario {
    const char* disease;
    std::array<std::uint32_t, 3> candidates;
    int year, doy, length;
  };
  const std::array<Scenario, 4> scenarios = {{
      {"A90", {440111, 440113, 440105}, 2023, 240, 14},    // dengue, Guangzhou, late summer
      {"B08.4", {440306, 440307, 440309}, 2023, 115, 10},  // HFMD, Shenzhen, spring
      {"J11", {441900, 440605, 442000}, 2022, 325, 10},    // influenza school cluster
      {"A09", {440802, 440803, 440881}, 2022, 195, 7},     // diarrhoea, Zhanjiang, summer
  }};
  const std::uint64_t extra = std::max<std::uint64_t>(40, p.rows / 200);
  if (p.rows >= 4 * extra * 5) {  // only when the outbreaks stay a small part of the data
    Rng r(key({p.seed, tag("health.outbreaks")}));
    for (const auto& s : scenarios) {
      Outbreak o{};
      o.county = s.candidates[r.below(3)];
      o.disease = disease_index(s.disease);
      o.first_day = day_of(s.year, 1, 1) + s.doy + r.between(0, 20);
      o.last_day = o.first_day + s.length - 1;
      o.cases = extra;
      m.outbreaks.push_back(o);
    }
  }
  const std::uint64_t injected = extra * m.outbreaks.size();
  m.base_cases = p.rows - injected;
  m.stride = injected > 0 ? p.rows / injected : 0;
  for (auto& o : m.outbreaks) {
    const std::size_t d = o.disease;
    double window = 0;
    for (std::int32_t day = o.first_day; day <= o.last_day; ++day) window += season(kDiseases[d], day);
    const std::size_t ci = county_index(o.county);
    const double county_share =
        counties()[ci].population * region_factor(kDiseases[d], counties()[ci]) / m.counties[d].total();
    o.baseline = static_cast<double>(m.base_cases) * kDiseases[d].share / m.disease.total() *
                 (window / m.days[d].total()) * county_share;
  }
  return m;
}

OutputTable make_cases(const Params& p, const Model& m, std::uint64_t k) {
  OutputTable t = shard_table(p, "cases", {{"case_id", DType::u64}, {"person_id", DType::u64}, {"sex", DType::u8},
                          {"age_years", DType::u8}, {"region_code", DType::u32}, {"disease", DType::str},
                          {"onset_day", DType::i32}, {"report_day", DType::i32}});
  const auto bounds = split_rows(p.rows, p.shards);
  const std::uint64_t id_salt = key({p.seed, tag("health.case_id")});
  for (std::uint64_t i = bounds[k]; i < bounds[k + 1]; ++i) {
    Rng r(key({p.seed, tag("health.cases"), i}));
    // Every stride-th case (up to the injected total) belongs to an outbreak, in order.
    const Outbreak* o = nullptr;
    if (m.stride > 0 && i % m.stride == m.stride - 1) {
      const std::uint64_t j = i / m.stride;
      std::uint64_t acc = 0;
      for (const auto& ob : m.outbreaks) {
        if (j < (acc += ob.cases)) {
          o = &ob;
          break;
        }
      }
    }
    std::size_t d = 0;
    std::int32_t onset = 0;
    std::uint32_t region = 0;
    if (o != nullptr) {
      d = o->disease;
      const double len = static_cast<double>(o->last_day - o->first_day + 1);
      const double tri = (r.uniform() + r.uniform()) / 2.0;  // triangular: peaks mid-window
      onset = o->first_day + std::min(static_cast<std::int32_t>(tri * len), o->last_day - o->first_day);
      region = o->county;
    } else {
      d = m.disease.pick(r);
      onset = kFirstDay + static_cast<std::int32_t>(m.days[d].pick(r));
      region = counties()[m.counties[d].pick(r)].code;
    }
    const Disease& dis = kDiseases[d];
    const auto sex = static_cast<std::uint8_t>(r.chance(dis.male) ? 1 : 2);
    const auto age = static_cast<std::uint8_t>(sample_disease_age(dis.age_model, r));
    const std::uint64_t person = mix64(key({p.seed, tag("health.person")}) ^ r.below(50'000'000));
    t.append(mix64(i ^ id_salt), person, sex, age, region, std::string(dis.code), onset, onset + report_delay(r));
  }
  return t;
}

OutputTable make_population() {
  OutputTable t("population", {{"region_code", DType::u32}, {"year", DType::u16}, {"sex", DType::u8},
                               {"age_group", DType::u8}, {"population", DType::i64}});
  const auto& share = age_group_share();
  for (const auto& c : counties()) {
    for (const std::uint16_t year : {std::uint16_t{2022}, std::uint16_t{2023}}) {
      const double growth = year == 2022 ? 1.004 : 1.008;  // vs the 2020 census
      for (std::uint8_t sex = 1; sex <= 2; ++sex) {
        for (std::uint8_t g = 0; g < 18; ++g) {
          const double m = male_share(g);
          const double v = c.population * growth * share[g] * (sex == 1 ? m : 1.0 - m);
          t.append(c.code, year, sex, g, static_cast<std::int64_t>(std::llround(v)));
        }
      }
    }
  }
  return t;
}

// The true diabetes model: logit P(diabetes) = b0 + b1 age + b2 bmi + b3 sbp + b4 smoker.
constexpr double kB0 = -9.0, kBAge = 0.045, kBBmi = 0.12, kBSbp = 0.015, kBSmoker = 0.35;

OutputTable make_checkups(const Params& p, std::uint64_t k) {
  OutputTable t = shard_table(p, "checkups", {{"person_id", DType::u64}, {"exam_day", DType::i32}, {"sex", DType::u8},
                             {"age_years", DType::u8}, {"bmi", DType::f32}, {"systolic_bp", DType::f32},
                             {"fasting_glucose", DType::f32}, {"smoker", DType::u8}, {"diabetes", DType::u8}});
  const std::uint64_t n = std::max<std::uint64_t>(1000, p.rows / 2);
  const auto bounds = split_rows(n, p.shards);
  const std::uint64_t id_salt = key({p.seed, tag("health.checkup_person")});
  for (std::uint64_t i = bounds[k]; i < bounds[k + 1]; ++i) {
    Rng r(key({p.seed, tag("health.checkups"), i}));
    const std::int32_t day = day_of(2023, 1, 1) + static_cast<std::int32_t>(r.below(365));
    const int age = std::min(sample_age(r, 4, 17), 90);
    const int g = age / 5;
    const std::uint8_t sex = r.chance(male_share(g)) ? 1 : 2;
    const float bmi = static_cast<float>(
        std::round(std::clamp(23.5 + 0.02 * (age - 40) + (sex == 1 ? 0.4 : -0.3) + 3.3 * r.normal(), 15.0, 45.0) * 10) /
        10);
    const float sbp = static_cast<float>(std::round(
        std::clamp(110 + 0.5 * (age - 20) + 0.8 * (static_cast<double>(bmi) - 23) + 12 * r.normal(), 85.0, 220.0)));
    const std::uint8_t smoker = r.chance(sex == 1 ? 0.50 : 0.03) ? 1 : 0;
    const double eta = kB0 + kBAge * age + kBBmi * static_cast<double>(bmi) +
                       kBSbp * static_cast<double>(sbp) + kBSmoker * smoker;
    const std::uint8_t diabetes = r.chance(1.0 / (1.0 + std::exp(-eta))) ? 1 : 0;
    const float glucose = static_cast<float>(
        std::round((diabetes ? std::max(7.0, 8.5 + 1.8 * r.normal()) : std::clamp(5.1 + 0.5 * r.normal(), 3.6, 6.9)) *
                   10) /
        10);
    t.append(mix64(i ^ id_salt), day, sex, static_cast<std::uint8_t>(age), bmi, sbp, glucose, smoker, diabetes);
  }
  return t;
}

std::vector<std::string> write_outbreaks(const Model& m, const std::filesystem::path& dir) {
  std::ostringstream s;
  s << "region_code,city_code,disease,first_day,last_day,first_date,last_date,injected_cases,expected_baseline\n";
  for (const auto& o : m.outbreaks) {
    const auto& c = counties()[county_index(o.county)];
    char base[32];
    std::snprintf(base, sizeof base, "%.2f", o.baseline);
    s << o.county << ',' << cities()[c.city].code << ',' << kDiseases[o.disease].code << ',' << o.first_day << ','
      << o.last_day << ',' << iso_date(o.first_day) << ',' << iso_date(o.last_day) << ',' << o.cases << ',' << base
      << '\n';
  }
  write_text_file(dir / "outbreaks.csv", s.str());
  return {"outbreaks.csv"};
}

}  // namespace

Domain health_domain(const Params& p) {
  auto model = std::make_shared<const Model>(make_model(p));
  Domain d;
  d.tables.push_back({"cases", p.shards, [p, model](std::uint64_t k) { return make_cases(p, *model, k); }});
  d.tables.push_back({"population", 1, [](std::uint64_t) { return make_population(); }});
  d.tables.push_back({"checkups", p.shards, [p](std::uint64_t k) { return make_checkups(p, k); }});
  d.sidecars = [model](const std::filesystem::path& dir) { return write_outbreaks(*model, dir); };
  return d;
}

}  // namespace pearl::jobs::data
