// Social-security domain: a synthetic insured population whose contributions, claims,
// deaths, unemployment spells and labour-force counts are mutually consistent, with planted
// fraud cases of each social.anomalies rule. Models: docs/data-generator.md ("Social").
#include <map>
#include <optional>
#include <memory>
#include <sstream>

#include "guangdong.hpp"

namespace pearl::jobs::data {
namespace {

constexpr std::int32_t kYearFirst = day_of(2023, 1, 1);
constexpr std::int32_t kYearLast = day_of(2023, 12, 31);
constexpr std::int32_t kSpellFirst = day_of(2021, 1, 1);  // spells start 2021–2023
constexpr std::int32_t kDeathFirst = day_of(2022, 1, 1);  // deaths registered 2022–2023
constexpr int kLfFirstMonth = 202201, kLfMonths = 24;
constexpr std::array<double, 6> kRates = {0, 0.24, 0.075, 0.008, 0.0, 0.01};  // work injury: by industry

struct Person {
  std::uint64_t id = 0;
  std::size_t county = 0;  // index into counties()
  std::uint8_t sex = 1;
  int age = 0;             // in 2023
  bool retired = false;    // men from 60, women from 55
  bool active = false;     // in the labour force (employee or self-employed)
  bool employee = false;   // formal employee: contributes through an employer
  std::uint64_t employer = 0;
  std::uint8_t industry = 0;
  double wage_base = 0;
  double pension = 0;  // monthly, when retired
  std::int32_t death_day = -1;
  std::int32_t spell_start = -1, spell_end = -1;  // spell_end -1: still registered
  [[nodiscard]] bool has_spell() const { return spell_start >= 0; }
  [[nodiscard]] bool alive_on(std::int32_t day) const { return death_day < 0 || day <= death_day; }
  /// Registered unemployed on `day`.
  [[nodiscard]] bool unemployed_on(std::int32_t day) const {
    return has_spell() && spell_start <= day && (spell_end < 0 || spell_end > day);
  }
  /// Registered on any day of [first, last].
  [[nodiscard]] bool unemployed_within(std::int32_t first, std::int32_t last) const {
    return has_spell() && spell_start <= last && (spell_end < 0 || spell_end > first);
  }
};

struct World {
  Params p;
  std::uint64_t persons = 0;
  std::vector<std::uint64_t> employers;  // per city: number of employers
  std::size_t surge_city = 0;
  int surge_month = 0;
};

double spell_probability(const City& c) { return c.pearl_delta ? 0.20 : 0.36; }  // over 3 years

std::uint8_t sample_industry(Rng& r) {
  // GB/T 4754 sections A..T (1..20), rough shares of insured employment in Guangdong.
  static const Weighted w({1, 0.5, 30, 1, 1, 8, 14, 5, 5, 3, 3, 4, 3, 4, 1, 5, 4, 1.5, 4, 0.1});
  return static_cast<std::uint8_t>(w.pick(r) + 1);
}

double injury_rate(std::uint8_t industry) {
  switch (industry) {
    case 2:
    case 6: return 0.012;  // mining, construction
    case 3: return 0.006;  // manufacturing
    default: return 0.002;
  }
}

Person person(const World& w, std::uint64_t i) {
  Rng r(key({w.p.seed, tag("social.person"), i}));
  Person q;
  q.id = mix64(i ^ key({w.p.seed, tag("social.person_id")}));
  q.county = county_by_population().pick(r);
  const City& city = cities()[counties()[q.county].city];
  q.age = sample_age(r, 4, 17);
  q.sex = r.chance(male_share(q.age / 5)) ? 1 : 2;
  q.retired = q.age >= (q.sex == 1 ? 60 : 55);
  q.active = !q.retired && r.chance(0.88);
  q.employee = q.active && r.chance(0.89);
  if (q.employee) {
    const std::size_t ci = counties()[q.county].city;
    const std::uint64_t e = r.below(w.employers[ci]);
    q.employer = mix64(key({w.p.seed, tag("social.employer"), ci, e}));
    Rng er(q.employer);
    q.industry = sample_industry(er);
    q.wage_base = std::round(city.avg_wage * std::clamp(std::exp(0.45 * r.normal()), 0.6, 3.0));
  }
  q.pension = cents(city.avg_wage * 0.45 * std::exp(0.12 * r.normal_clamped(2.5)));
  // Deaths 2022–2023 with an age-dependent annual hazard.
  const double hazard = q.age < 40 ? 0.001 : q.age < 60 ? 0.004 : q.age < 70 ? 0.012 : q.age < 80 ? 0.03 : 0.09;
  if (r.chance(2 * hazard)) q.death_day = kDeathFirst + static_cast<std::int32_t>(r.below(730));
  // One registered unemployment spell at most, for labour-force members.
  const double u = r.uniform();
  const bool surge = counties()[q.county].city == w.surge_city && r.chance(0.05);
  if (q.active && (u < spell_probability(city) || surge)) {
    if (surge) {
      q.spell_start = month_first(w.surge_month) + static_cast<std::int32_t>(r.below(28));
    } else {
      q.spell_start = kSpellFirst + static_cast<std::int32_t>(r.below(1095));
    }
    const auto days = static_cast<std::int32_t>(std::ceil(-150.0 * std::log(1.0 - r.uniform())));
    q.spell_end = q.spell_start + std::max(days, 15);
    if (q.spell_end > kYearLast) q.spell_end = -1;
    if (q.death_day >= 0 && q.spell_start > q.death_day) q.spell_start = q.spell_end = -1;
    else if (q.death_day >= 0 && (q.spell_end < 0 || q.spell_end > q.death_day)) q.spell_end = q.death_day;
  }
  return q;
}

/// Fraction of `due` an employer pays in a month: most pay in full, some partially, a few not.
double pay_fraction(const World& w, std::uint64_t employer, int month) {
  Rng kind(employer ^ 0x5bd1e995ULL);
  const double u = kind.uniform();
  Rng r(key({w.p.seed, tag("social.pay"), employer, static_cast<std::uint64_t>(month)}));
  if (u < 0.90) return 1.0;
  if (u < 0.97) return r.chance(0.5) ? 0.4 + 0.55 * r.uniform() : 1.0;
  return r.chance(0.6) ? 0.0 : 1.0;
}

double due_of(const Person& q, int insurance) {
  const double rate = insurance == 4 ? injury_rate(q.industry) : kRates[static_cast<std::size_t>(insurance)];
  return cents(rate * q.wage_base);
}

/// Contributes in month m: an alive employee not registered unemployed on any day of m.
bool contributes(const Person& q, int month) {
  return q.employee && q.alive_on(month_first(month)) && !q.unemployed_within(month_first(month), month_last(month));
}

double benefit_amount(const Person& q, int benefit, Rng& r) {
  const City& city = cities()[counties()[q.county].city];
  switch (benefit) {
    case 1: return q.pension;
    case 2: return cents(0.9 * city.min_wage * std::exp(0.05 * r.normal_clamped(2.5)));
    case 4: return cents(city.avg_wage * 1.5 * std::exp(0.45 * r.normal_clamped(2.2)));
    default: return cents((city.avg_wage > 10'000 ? 1'200.0 : 900.0) * std::exp(0.45 * r.normal_clamped(2.2)));
  }
}

struct Claim {
  std::uint64_t person = 0;
  std::uint32_t region = 0;
  std::uint8_t benefit = 0;
  std::int32_t day = 0;
  double amount = 0;
};

struct Planted {
  std::string rule;
  Claim claim;
};

std::int32_t day_in(Rng& r, std::int32_t first, std::int32_t last) {
  return first + static_cast<std::int32_t>(r.below(static_cast<std::uint64_t>(last - first + 1)));
}

Claim natural_claim(const World& w, std::uint64_t i) {
  Rng r(key({w.p.seed, tag("social.claims"), i}));
  static const Weighted mix({0.42, 0.13, 0.40, 0.05});  // pension, unemployment, medical, work injury
  int benefit = static_cast<int>(mix.pick(r)) + 1;
  Person q;
  std::int32_t first = kYearFirst, last = kYearLast;
  for (int probe = 0;; ++probe) {
    q = person(w, r.below(w.persons));
    if (!q.alive_on(kYearFirst)) continue;
    last = q.death_day >= 0 ? std::min(kYearLast, q.death_day) : kYearLast;
    first = kYearFirst;
    if (probe >= 64) benefit = 3;  // nobody eligible found: a medical claim
    bool ok = benefit == 3 || (benefit == 1 && q.retired) || (benefit == 4 && q.employee);
    if (benefit == 2 && q.unemployed_within(kYearFirst, last)) {
      first = std::max(first, q.spell_start);
      if (q.spell_end >= 0) last = std::min(last, q.spell_end - 1);
      ok = first <= last;
    }
    if (ok) break;
  }
  return {q.id, counties()[q.county].code, static_cast<std::uint8_t>(benefit), day_in(r, first, last),
          benefit_amount(q, benefit, r)};
}

/// The planted fraud cases, by claim index (the same on every rank and shard).
std::map<std::uint64_t, Planted> plant(const World& w) {
  std::map<std::uint64_t, Planted> out;
  const std::uint64_t per_rule = std::clamp<std::uint64_t>(w.p.rows / 4000, 3, 25);
  if (w.p.rows < 20 * per_rule || w.persons < 100) return out;
  Rng r(key({w.p.seed, tag("social.planted")}));
  auto fresh_index = [&] {
    for (;;) {
      const std::uint64_t i = r.below(w.p.rows);
      if (!out.contains(i)) return i;
    }
  };
  auto find = [&](auto&& accept) -> std::optional<Person> {
    const std::uint64_t start = r.below(w.persons);
    for (std::uint64_t j = 0; j < w.persons; ++j) {
      Person q = person(w, (start + j) % w.persons);
      if (accept(q)) return q;
    }
    return std::nullopt;
  };
  auto alive_all_year = [](const Person& q) { return q.death_day < 0 || q.death_day > kYearLast; };
  for (std::uint64_t n = 0; n < per_rule; ++n) {
    // paid_after_death: a benefit claimed 32–91 days after the registered death.
    if (auto q = find([](const Person& x) { return x.death_day >= kYearFirst && x.death_day <= kYearLast - 92; })) {
      const int benefit = q->retired ? 1 : 3;
      const std::int32_t day = q->death_day + 32 + static_cast<std::int32_t>(r.below(60));
      out[fresh_index()] = {"paid_after_death",
                            {q->id, counties()[q->county].code, static_cast<std::uint8_t>(benefit), day,
                             benefit_amount(*q, benefit, r)}};
    }
    // concurrent_claims: the same benefit in the same month from the home city and another city.
    if (auto q = find(alive_all_year)) {
      const int benefit = q->retired ? 1 : 3;
      const int month = 202301 + static_cast<int>(r.below(12));
      const std::size_t home = counties()[q->county].city;
      std::size_t other = q->county;
      while (counties()[other].city == home) other = county_by_population().pick(r);
      for (const std::size_t c : {q->county, other}) {
        out[fresh_index()] = {"concurrent_claims",
                              {q->id, counties()[c].code, static_cast<std::uint8_t>(benefit),
                               day_in(r, month_first(month), month_last(month)), benefit_amount(*q, benefit, r)}};
      }
    }
    // ui_while_employed: unemployment benefit in a month with a paid pension contribution.
    const int month = 202301 + static_cast<int>(r.below(12));
    if (auto q = find([&](const Person& x) {
          return contributes(x, month) && alive_all_year(x) && pay_fraction(w, x.employer, month) > 0;
        })) {
      out[fresh_index()] = {"ui_while_employed",
                            {q->id, counties()[q->county].code, 2, day_in(r, month_first(month), month_last(month)),
                             benefit_amount(*q, 2, r)}};
    }
    // amount_outlier: a medical reimbursement 50–200 times the typical amount, in a big city.
    if (auto q = find([&](const Person& x) {
          const auto code = cities()[counties()[x.county].city].code;
          return alive_all_year(x) && (code == 440100 || code == 440300);
        })) {
      out[fresh_index()] = {"amount_outlier",
                            {q->id, counties()[q->county].code, 3, day_in(r, kYearFirst, kYearLast),
                             cents(60'000 + 140'000 * r.uniform())}};
    }
  }
  return out;
}

std::uint64_t claim_id(const World& w, std::uint64_t i) { return mix64(i ^ key({w.p.seed, tag("social.claim_id")})); }

OutputTable make_claims(const World& w, const std::map<std::uint64_t, Planted>& planted, std::uint64_t k) {
  OutputTable t = shard_table(w.p, "claims", {{"claim_id", DType::u64}, {"person_id", DType::u64}, {"region_code", DType::u32},
                           {"benefit", DType::u8}, {"claim_day", DType::i32}, {"amount", DType::f64}});
  const auto bounds = split_rows(w.p.rows, w.p.shards);
  for (std::uint64_t i = bounds[k]; i < bounds[k + 1]; ++i) {
    const auto it = planted.find(i);
    const Claim c = it != planted.end() ? it->second.claim : natural_claim(w, i);
    t.append(claim_id(w, i), c.person, c.region, c.benefit, c.day, c.amount);
  }
  return t;
}

OutputTable make_contributions(const World& w, std::uint64_t k) {
  OutputTable t = shard_table(w.p, "contributions", {{"person_id", DType::u64}, {"employer_id", DType::u64}, {"region_code", DType::u32},
                                  {"industry", DType::u8}, {"month", DType::i32}, {"insurance", DType::u8},
                                  {"wage_base", DType::f64}, {"due", DType::f64}, {"paid", DType::f64}});
  const auto bounds = split_rows(w.persons, w.p.shards);
  for (std::uint64_t i = bounds[k]; i < bounds[k + 1]; ++i) {
    const Person q = person(w, i);
    for (int month = 202301; month <= 202312; ++month) {
      if (!contributes(q, month)) continue;
      const double f = pay_fraction(w, q.employer, month);
      for (std::uint8_t ins = 1; ins <= 5; ++ins) {
        const double due = due_of(q, ins);
        t.append(q.id, q.employer, counties()[q.county].code, q.industry, month, ins, q.wage_base, due, cents(f * due));
      }
    }
  }
  return t;
}

OutputTable make_unemployment(const World& w, std::uint64_t k) {
  OutputTable t = shard_table(w.p, "unemployment", {{"person_id", DType::u64}, {"region_code", DType::u32}, {"start_day", DType::i32},
                                 {"end_day", DType::i32}});
  const auto bounds = split_rows(w.persons, w.p.shards);
  for (std::uint64_t i = bounds[k]; i < bounds[k + 1]; ++i) {
    const Person q = person(w, i);
    if (q.has_spell()) t.append(q.id, counties()[q.county].code, q.spell_start, q.spell_end);
  }
  return t;
}

OutputTable make_deaths(const World& w) {
  OutputTable t("deaths", {{"person_id", DType::u64}, {"death_day", DType::i32}});
  for (std::uint64_t i = 0; i < w.persons; ++i) {
    const Person q = person(w, i);
    if (q.death_day >= 0) t.append(q.id, q.death_day);
  }
  return t;
}

OutputTable make_labour_force(const World& w) {
  OutputTable t("labour_force", {{"region_code", DType::u32}, {"month", DType::i32}, {"employed", DType::i64}});
  std::vector<std::int64_t> employed(counties().size() * kLfMonths, 0);
  for (std::uint64_t i = 0; i < w.persons; ++i) {
    const Person q = person(w, i);
    if (!q.active) continue;
    for (int m = 0; m < kLfMonths; ++m) {
      const std::int32_t last = month_last(add_months(kLfFirstMonth, m));
      if (q.alive_on(last) && !q.unemployed_on(last)) ++employed[q.county * kLfMonths + static_cast<std::size_t>(m)];
    }
  }
  for (std::size_t c = 0; c < counties().size(); ++c) {
    for (int m = 0; m < kLfMonths; ++m) {
      const std::int64_t e = employed[c * kLfMonths + static_cast<std::size_t>(m)];
      if (e > 0) t.append(counties()[c].code, add_months(kLfFirstMonth, m), e);
    }
  }
  return t;
}

std::vector<std::string> write_truth(const World& w, const std::map<std::uint64_t, Planted>& planted,
                                     const std::filesystem::path& dir) {
  std::ostringstream s;
  s << "rule,claim_id,person_id,region_code,benefit,claim_day,amount\n";
  for (const auto& [i, pl] : planted) {
    char amount[32];
    std::snprintf(amount, sizeof amount, "%.2f", pl.claim.amount);
    s << pl.rule << ',' << claim_id(w, i) << ',' << pl.claim.person << ',' << pl.claim.region << ','
      << static_cast<int>(pl.claim.benefit) << ',' << pl.claim.day << ',' << amount << '\n';
  }
  write_text_file(dir / "planted_fraud.csv", s.str());
  std::ostringstream u;
  u << "city_code,month,extra_spell_share\n" << cities()[w.surge_city].code << ',' << w.surge_month << ",0.05\n";
  write_text_file(dir / "unemployment_surge.csv", u.str());
  return {"planted_fraud.csv", "unemployment_surge.csv"};
}

}  // namespace

Domain social_domain(const Params& p) {
  auto w = std::make_shared<World>();
  w->p = p;
  w->persons = std::max<std::uint64_t>(1000, p.rows / 4);
  double total = 0;
  for (const auto& c : cities()) total += c.population;
  for (const auto& c : cities()) {
    w->employers.push_back(std::max<std::uint64_t>(
        5, static_cast<std::uint64_t>(static_cast<double>(w->persons) * c.population / total / 25)));
  }
  // A mass-layoff month in one manufacturing city (the seed picks which and when).
  Rng r(key({p.seed, tag("social.surge")}));
  const std::array<std::uint32_t, 4> candidates = {441900, 440600, 441300, 442000};
  const std::uint32_t code = candidates[r.below(4)];
  for (std::size_t i = 0; i < cities().size(); ++i) {
    if (cities()[i].code == code) w->surge_city = i;
  }
  w->surge_month = 202302 + static_cast<int>(r.below(5));
  auto planted = std::make_shared<const std::map<std::uint64_t, Planted>>(plant(*w));
  std::shared_ptr<const World> cw = w;
  Domain d;
  d.tables.push_back({"claims", p.shards, [cw, planted](std::uint64_t k) { return make_claims(*cw, *planted, k); }});
  d.tables.push_back({"contributions", p.shards, [cw](std::uint64_t k) { return make_contributions(*cw, k); }});
  d.tables.push_back({"unemployment", p.shards, [cw](std::uint64_t k) { return make_unemployment(*cw, k); }});
  d.tables.push_back({"deaths", 1, [cw](std::uint64_t) { return make_deaths(*cw); }});
  d.tables.push_back({"labour_force", 1, [cw](std::uint64_t) { return make_labour_force(*cw); }});
  d.sidecars = [cw, planted](const std::filesystem::path& dir) { return write_truth(*cw, *planted, dir); };
  return d;
}

}  // namespace pearl::jobs::data
