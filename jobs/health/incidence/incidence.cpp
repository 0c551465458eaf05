// health.incidence — crude and directly age-standardised incidence rates with Fay–Feuer
// gamma intervals and small-cell suppression (contract: shared/contracts/jobs.md;
// docs/jobs/health.incidence.md).
//
// How: cases are counted per (region, disease, sex, year, age group) by the engine —
// components left out of --by are held at zero — and population per (raw region, year,
// sex, age group). Both results have one entry per stratum, not per row (a few
// thousand to a few hundred thousand), so they are gathered on every rank, where each
// output row's 18 age groups are contiguous in key order. Every rank then computes the
// same rows and writes its contiguous slice of them: rank parts concatenate in key order
// and the numbers cannot depend on the rank count. Every rank also checks the same
// strata, so a bad stratum is reported identically everywhere.
#include <algorithm>
#include <array>
#include <boost/math/distributions/gamma.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "pearl/core/calendar.hpp"
#include "pearl/core/collectives.hpp"
#include "pearl/core/job.hpp"
#include "pearl/core/options.hpp"
#include "pearl/core/region.hpp"
#include "pearl/core/suppression.hpp"

namespace pearl::jobs {
namespace {

constexpr std::size_t kAgeGroups = 18;
/// Longest disease code kept in a key. ICD-10 codes are at most 7 bytes; 32 leaves room
/// for local codes and UTF-8 names. Longer values are an input error, never truncated.
constexpr std::size_t kDiseaseBytes = 32;
using Disease = FixedString<kDiseaseBytes>;

// Standard populations, 0–4 … 80–84, 85+ (contract: jobs.md, health.incidence).
constexpr std::array<double, kAgeGroups> kWho2000 = {8860, 8690, 8600, 8470, 8220, 7930, 7610, 7150, 6590,
                                                     6040, 5370, 4550, 3720, 2960, 2210, 1520, 910,  635};
constexpr std::array<double, kAgeGroups> kSegi = {12000, 10000, 9000, 9000, 8000, 8000, 6000, 6000, 6000,
                                                  6000,  5000,  4000, 4000, 3000, 2000, 1000, 500,  500};

/// (region_code, disease, sex, year, age group); components not in --by are zero. Tuple
/// order is the output's key order, with the age group last so that one output row's age
/// groups are adjacent.
using CaseKey = std::tuple<std::uint32_t, Disease, std::uint8_t, std::uint16_t, std::uint8_t>;
/// (region_code as stored, year, sex, age group).
using PopKey = std::tuple<std::uint32_t, std::uint16_t, std::uint8_t, std::uint8_t>;

std::string age_group_label(std::size_t g) {
  if (g + 1 == kAgeGroups) return std::to_string(5 * g) + "+";
  return std::to_string(5 * g) + "-" + std::to_string(5 * g + 4);
}

class Incidence final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "health.incidence"; }
  [[nodiscard]] std::string summary() const override {
    return "crude and age-standardised incidence rates (WHO 2000 or Segi) with Fay-Feuer intervals";
  }

  void declare(JobSpec& spec) override {
    spec.input("cases", "notifiable-disease case reports",
               {{"sex", DType::u8}, {"age_years", DType::u8}, {"region_code", DType::u32},
                {"disease", DType::str}, {"onset_day", DType::i32}});
    spec.input("population", "mid-year population by region (county or city), year, sex, age group",
               {{"region_code", DType::u32}, {"year", DType::u16}, {"sex", DType::u8},
                {"age_group", DType::u8}, {"population", DType::i64}});
    spec.options().add_options()
        ("by", po::value(&by_)->default_value("region,disease,year"),
         "key columns, a subset of region,disease,sex,year (written in that order)")
        ("standard", po::value(&standard_)->default_value("who2000"), "standard population: who2000 or segi")
        ("per", po::value(&per_)->default_value(100000.0), "rates per this many person-years");
    region_level_.declare(spec);
    small_cells_.declare(spec, "cases");
    spec.output("incidence", "one row per key with at least one case, ascending by key");
  }

  void run(JobContext& ctx) override {
    const auto by = parse_choices("by", by_, {"region", "disease", "sex", "year"});
    const auto has = [&](const char* c) { return std::find(by.begin(), by.end(), c) != by.end(); };
    by_region_ = has("region");
    by_disease_ = has("disease");
    by_sex_ = has("sex");
    by_year_ = has("year");
    level_ = region_level_.parse();
    small_cells_.check();
    if (!(per_ > 0) || !std::isfinite(per_)) {
      throw InputError("option --per must be a positive number, got " + std::to_string(per_));
    }
    if (standard_ == "who2000") weights_ = kWho2000;
    else if (standard_ == "segi") weights_ = kSegi;
    else throw InputError("option --standard: '" + standard_ + "' is not one of: who2000, segi");
    double total = 0;
    for (double w : weights_) total += w;
    for (double& w : weights_) w /= total;

    const auto population = count_population(ctx);
    const auto cases = count_cases(ctx);
    write_rows(ctx, cases, population);
  }

 private:
  /// Population per stratum as stored (region code unmapped), on every rank.
  std::vector<std::pair<PopKey, std::int64_t>> count_population(JobContext& ctx) {
    TableInput input = ctx.input("population");
    const std::string where = ctx.input_location("population");
    const auto map = [&where](const TableBatch& b, auto& emit) {
      const auto region = b.column<std::uint32_t>("region_code");
      const auto year = b.column<std::uint16_t>("year");
      const auto sex = b.column<std::uint8_t>("sex");
      const auto group = b.column<std::uint8_t>("age_group");
      const auto people = b.column<std::int64_t>("population");
      for (std::size_t i = 0; i < b.rows(); ++i) {
        if (group[i] >= kAgeGroups) {
          throw InputError(where + ": column 'age_group' has " + std::to_string(group[i]) + " (row " +
                           std::to_string(b.first_row() + i) + "); age groups are 0..17");
        }
        if (people[i] < 0) {
          throw InputError(where + ": column 'population' has " + std::to_string(people[i]) + " (row " +
                           std::to_string(b.first_row() + i) + "); populations are >= 0");
        }
        emit(PopKey{region[i], year[i], sex[i], group[i]}, people[i]);
      }
    };
    const auto result = ctx.engine().reduce_by_key<PopKey, std::int64_t>(input, map, std::plus<>{});
    return result.gather(ctx.comm());
  }

  /// Case counts per (key, age group), on every rank.
  std::vector<std::pair<CaseKey, std::int64_t>> count_cases(JobContext& ctx) {
    std::vector<ColumnSpec> columns = {{"age_years", DType::u8}, {"onset_day", DType::i32}};
    if (by_region_) columns.push_back({"region_code", DType::u32});
    if (by_sex_) columns.push_back({"sex", DType::u8});
    if (by_disease_) columns.push_back({"disease", DType::str});  // strings only when needed
    TableInput input = ctx.input("cases", columns);
    const std::string where = ctx.input_location("cases");
    const RegionLevel level = level_;
    const bool by_region = by_region_, by_sex = by_sex_, by_disease = by_disease_, by_year = by_year_;
    const auto map = [&](const TableBatch& b, auto& emit) {
      const auto age = b.column<std::uint8_t>("age_years");
      const auto onset = b.column<std::int32_t>("onset_day");
      const std::span<const std::uint32_t> region =
          by_region ? b.column<std::uint32_t>("region_code") : std::span<const std::uint32_t>{};
      const std::span<const std::uint8_t> sex = by_sex ? b.column<std::uint8_t>("sex") : std::span<const std::uint8_t>{};
      const std::span<const std::string> disease =
          by_disease ? b.column<std::string>("disease") : std::span<const std::string>{};
      for (std::size_t i = 0; i < b.rows(); ++i) {
        // The year is only computed (and range-checked) when it is a key: without it the
        // population is summed over all its years.
        std::uint16_t year = 0;
        if (by_year) {
          const std::int64_t y = civil_from_days(onset[i]).year;
          if (y < 1 || y > 65535) {
            throw InputError(where + ": column 'onset_day' has " + std::to_string(onset[i]) + " (row " +
                             std::to_string(b.first_row() + i) + "), year " + std::to_string(y) +
                             " is outside 1..65535");
          }
          year = static_cast<std::uint16_t>(y);
        }
        Disease code{};
        if (by_disease) {
          if (disease[i].size() > kDiseaseBytes) {
            throw InputError(where + ": column 'disease' has '" + disease[i] + "' (row " +
                             std::to_string(b.first_row() + i) + "), longer than " +
                             std::to_string(kDiseaseBytes) + " bytes");
          }
          code = Disease(disease[i]);
        }
        const auto group = static_cast<std::uint8_t>(std::min(age[i] / 5, static_cast<int>(kAgeGroups) - 1));
        emit(CaseKey{by_region ? region_at(level, region[i]) : 0u, code, by_sex ? sex[i] : std::uint8_t{0}, year,
                     group},
             std::int64_t{1});
      }
    };
    const auto result = ctx.engine().reduce_by_key<CaseKey, std::int64_t>(input, map, std::plus<>{});
    return result.gather(ctx.comm());
  }

  /// Population per (region at --region-level, year, sex, age group), with the components
  /// not in --by summed over; refuses populations given at two levels for the same area
  /// (summing them would count people twice).
  std::map<PopKey, std::int64_t> population_by_key(const std::vector<std::pair<PopKey, std::int64_t>>& rows,
                                                   const std::string& where) {
    raw_regions_.clear();
    for (const auto& [k, v] : rows) raw_regions_.insert(std::get<0>(k));
    for (const std::uint32_t code : raw_regions_) {
      for (const RegionLevel coarser : {RegionLevel::city, RegionLevel::province}) {
        const std::uint32_t parent = region_at(coarser, code);
        if (parent != code && raw_regions_.count(parent) != 0) {
          throw InputError(where + ": has rows for region " + std::to_string(parent) + " and for region " +
                           std::to_string(code) + " inside it; give the population at one level only");
        }
      }
    }
    std::map<PopKey, std::int64_t> out;
    for (const auto& [k, v] : rows) {
      const auto& [region, year, sex, group] = k;
      out[PopKey{by_region_ ? region_at(level_, region) : 0u, by_year_ ? year : std::uint16_t{0},
                 by_sex_ ? sex : std::uint8_t{0}, group}] += v;
    }
    return out;
  }

  [[noreturn]] void missing_population(const CaseKey& key, std::int64_t cases, bool absent,
                                       const std::string& where) const {
    const auto& [region, disease, sex, year, group] = key;
    std::string stratum = "region " + (by_region_ ? std::to_string(region) : std::string("(all)")) + ", year " +
                          (by_year_ ? std::to_string(year) : std::string("(all)")) + ", sex " +
                          (by_sex_ ? std::to_string(sex) : std::string("(all)")) + ", age group " +
                          std::to_string(group) + " (" + age_group_label(group) + ")";
    std::string message = "health.incidence: " + std::to_string(cases) + " cases" +
                          (by_disease_ ? " of " + disease.str() : std::string()) + " in " + stratum +
                          " but the population of that stratum is " + (absent ? "absent" : "0") + " in " + where;
    if (absent && by_region_) {
      // Population given at a coarser level than --region-level: say so plainly.
      for (const RegionLevel coarser : {RegionLevel::city, RegionLevel::province}) {
        const std::uint32_t parent = region_at(coarser, region);
        if (parent != region && raw_regions_.count(parent) != 0) {
          message += "; the population is given for region " + std::to_string(parent) + " (" +
                     region_level_name(coarser) + " level), coarser than --region-level " +
                     region_level_name(level_) + ": use --region-level " + region_level_name(coarser) +
                     " or a finer population table";
          break;
        }
      }
    }
    throw InputError(message);
  }

  struct Row {
    CaseKey key;  // age group 0
    std::int64_t cases = 0, population = 0;
    double crude = 0, asr = 0, lower = 0, upper = 0;
  };

  void write_rows(JobContext& ctx, const std::vector<std::pair<CaseKey, std::int64_t>>& cases,
                  const std::vector<std::pair<PopKey, std::int64_t>>& population_rows) {
    const std::string where = ctx.input_location("population");
    const auto population = population_by_key(population_rows, where);
    const auto same_row = [](const CaseKey& a, const CaseKey& b) {
      return std::get<0>(a) == std::get<0>(b) && std::get<1>(a) == std::get<1>(b) && std::get<2>(a) == std::get<2>(b) &&
             std::get<3>(a) == std::get<3>(b);
    };
    std::vector<Row> rows;
    for (std::size_t i = 0; i < cases.size();) {
      std::size_t end = i;
      while (end < cases.size() && same_row(cases[i].first, cases[end].first)) ++end;
      const auto& [region, disease, sex, year, unused] = cases[i].first;
      std::array<std::int64_t, kAgeGroups> d{}, n{};
      for (std::size_t j = i; j < end; ++j) d[std::get<4>(cases[j].first)] = cases[j].second;
      for (std::size_t g = 0; g < kAgeGroups; ++g) {
        const auto it = population.find(PopKey{region, year, sex, static_cast<std::uint8_t>(g)});
        n[g] = it == population.end() ? -1 : it->second;  // -1: absent
      }
      for (std::size_t g = 0; g < kAgeGroups; ++g) {
        if (d[g] > 0 && n[g] <= 0) {
          CaseKey at = cases[i].first;
          std::get<4>(at) = static_cast<std::uint8_t>(g);
          missing_population(at, d[g], n[g] < 0, where);
        }
      }
      rows.push_back(compute(cases[i].first, d, n));
      i = end;
    }
    // Every rank holds every row: rank r writes rows [N r / R, N (r+1) / R).
    const auto ranks = static_cast<std::size_t>(ctx.engine().ranks());
    const auto rank = static_cast<std::size_t>(ctx.engine().rank());
    const std::size_t first = rows.size() * rank / ranks, last = rows.size() * (rank + 1) / ranks;
    ctx.write(output(rows, first, last));
  }

  /// One output row from its age groups' cases d and populations n (−1 = absent; every
  /// group with cases has n > 0 here). Groups without cases and without population add
  /// nothing (their rate is taken as 0 rather than 0/0).
  Row compute(const CaseKey& key, const std::array<std::int64_t, kAgeGroups>& d,
              const std::array<std::int64_t, kAgeGroups>& n) const {
    Row r{key};
    double y = 0, v = 0, wm = 0;
    for (std::size_t g = 0; g < kAgeGroups; ++g) {
      r.cases += d[g];
      if (n[g] <= 0) continue;
      r.population += n[g];
      const double ng = static_cast<double>(n[g]), dg = static_cast<double>(d[g]);
      y += weights_[g] * (dg / ng);
      v += weights_[g] * weights_[g] * (dg / (ng * ng));
      wm = std::max(wm, weights_[g] / ng);
    }
    r.crude = static_cast<double>(r.cases) / static_cast<double>(r.population) * per_;
    r.asr = y * per_;
    // Fay & Feuer (1997), as epitools::ageadjust.direct (y > 0 and v > 0: the row has cases).
    const boost::math::gamma_distribution<double> low(y * y / v, v / y);
    const boost::math::gamma_distribution<double> high((y + wm) * (y + wm) / (v + wm * wm), (v + wm * wm) / (y + wm));
    r.lower = boost::math::quantile(low, 0.025) * per_;
    r.upper = boost::math::quantile(high, 0.975) * per_;
    return r;
  }

  OutputTable output(const std::vector<Row>& rows, std::size_t first, std::size_t last) const {
    std::vector<ColumnSpec> specs;
    if (by_region_) specs.push_back({"region_code", DType::u32});
    if (by_disease_) specs.push_back({"disease", DType::str});
    if (by_sex_) specs.push_back({"sex", DType::u8});
    if (by_year_) specs.push_back({"year", DType::u16});
    const std::size_t keys = specs.size();
    for (const char* c : {"cases", "population"}) specs.push_back({c, DType::i64});
    for (const char* c : {"crude_rate", "asr", "asr_lower", "asr_upper"}) specs.push_back({c, DType::f64});
    specs.push_back({"suppressed", DType::u8});
    OutputTable out("incidence", specs);
    for (std::size_t i = first; i < last; ++i) {
      const Row& r = rows[i];
      const auto& [region, disease, sex, year, unused] = r.key;
      std::size_t c = 0;
      if (by_region_) out.column<std::uint32_t>(c++).push_back(region);
      if (by_disease_) out.column<std::string>(c++).push_back(disease.str());
      if (by_sex_) out.column<std::uint8_t>(c++).push_back(sex);
      if (by_year_) out.column<std::uint16_t>(c++).push_back(year);
      const bool hide = small_cells_.applies(r.cases);
      out.column<std::int64_t>(keys).push_back(SmallCellSuppression::count(r.cases, hide));
      out.column<std::int64_t>(keys + 1).push_back(r.population);  // a published denominator: never hidden
      out.column<double>(keys + 2).push_back(SmallCellSuppression::rate(r.crude, hide));
      out.column<double>(keys + 3).push_back(SmallCellSuppression::rate(r.asr, hide));
      out.column<double>(keys + 4).push_back(SmallCellSuppression::rate(r.lower, hide));
      out.column<double>(keys + 5).push_back(SmallCellSuppression::rate(r.upper, hide));
      out.column<std::uint8_t>(keys + 6).push_back(SmallCellSuppression::flag(hide));
    }
    return out;
  }

  std::string by_, standard_;
  double per_ = 100000.0;
  RegionLevelOption region_level_;
  SmallCellSuppression small_cells_;
  RegionLevel level_ = RegionLevel::city;
  bool by_region_ = false, by_disease_ = false, by_sex_ = false, by_year_ = false;
  std::array<double, kAgeGroups> weights_{};
  std::set<std::uint32_t> raw_regions_;
};

}  // namespace
PEARL_REGISTER_JOB(Incidence);
}  // namespace pearl::jobs
