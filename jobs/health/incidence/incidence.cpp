// health.incidence — crude and directly age-standardised incidence rates with Fay–Feuer
// gamma intervals and small-cell suppression (contract: docs/contracts/jobs.md;
// docs/jobs/health.incidence.md).
//
// How: cases are counted per stratum — (region, disease, sex, year, age group),
// components left out of --by held at zero — inside the map first (strata_counter.hpp:
// one pair per stratum and map thread reaches the engine, not one per case). The
// strata, far fewer than the cases, are then re-keyed by output row with the row's 18 age-group counts as one value, so a
// row is never split between ranks. The rows are sorted globally: each rank holds a
// contiguous key range, computes those rows and writes them, and the rank parts
// concatenate in key order. Nothing per case stratum is gathered, so the job scales
// with the number of rows as the engine does. Population has one entry per (raw
// region, year, sex, age group) — no disease, a few thousand to a few hundred thousand
// — and is gathered on every rank, which needs it for whichever rows it holds. A bad
// stratum is found by the rank that holds it; the ranks agree on failure, and the
// lowest failing rank, which holds the first bad row in key order, reports it.
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

#include "pearl/job.hpp"
#include "strata_counter.hpp"

namespace pearl::jobs {
namespace {


// Standard populations, 0–4 … 80–84, 85+ (contract: jobs.md, health.incidence).
constexpr std::array<double, kAgeGroups> kWho2000 = {8860, 8690, 8600, 8470, 8220, 7930, 7610, 7150, 6590,
                                                     6040, 5370, 4550, 3720, 2960, 2210, 1520, 910,  635};
constexpr std::array<double, kAgeGroups> kSegi = {12000, 10000, 9000, 9000, 8000, 8000, 6000, 6000, 6000,
                                                  6000,  5000,  4000, 4000, 3000, 2000, 1000, 500,  500};

/// (region_code, disease, sex, year): one output row; components not in --by are zero.
/// Tuple order is the output's key order.
using RowKey = std::tuple<std::uint32_t, Disease, std::uint8_t, std::uint16_t>;
/// A row's cases per age group.
using AgeCounts = std::array<std::int64_t, kAgeGroups>;
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
    spec.option("by", &by_, "region,disease,year", "key columns, a subset of region,disease,sex,year (written in that order)");
    spec.option("standard", &standard_, "who2000", "standard population: who2000 or segi");
    spec.option("per", &per_, 100000.0, "rates per this many person-years").positive();
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
    if (standard_ == "who2000") weights_ = kWho2000;
    else if (standard_ == "segi") weights_ = kSegi;
    else throw InputError("option --standard: '" + standard_ + "' is not one of: who2000, segi");
    double total = 0;
    for (double w : weights_) total += w;
    for (double& w : weights_) w /= total;

    const auto population = count_population(ctx);
    // The unsorted rows are a temporary, released at the end of this statement, once sorted.
    const auto rows = ctx.engine().sort_globally(count_cases(ctx));
    write_rows(ctx, rows, population);
  }

 private:
  /// Populations (each >= 0) add up to at most INT64_MAX: a sum beyond it stays there
  /// (saturates), so the stratum is named below instead of wrapping to a wrong rate.
  static std::int64_t add_population(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t r = 0;
    return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<std::int64_t>::max() : r;
  }

  [[noreturn]] static void population_overflow(const std::string& where, const std::string& stratum) {
    throw InputError(where + ": the population of " + stratum +
                     " adds up to more than a 64-bit integer holds (9223372036854775807)");
  }

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
    const auto result = ctx.engine().reduce_by_key<PopKey, std::int64_t>(input, map, add_population);
    return result.gather(ctx.comm());
  }

  /// Case counts per output row and age group, distributed over the ranks.
  KeyedResult<RowKey, AgeCounts> count_cases(JobContext& ctx) {
    std::vector<ColumnSpec> columns = {{"age_years", DType::u8}, {"onset_day", DType::i32}};
    if (by_region_) columns.push_back({"region_code", DType::u32});
    if (by_sex_) columns.push_back({"sex", DType::u8});
    // Strings only when needed; one longer than a Disease holds is a bad row for the reader.
    if (by_disease_) columns.push_back(fixed_string_column<Disease>("disease"));
    TableInput input = ctx.input("cases", columns);
    StrataCounter::Plan plan{ctx.input_location("cases"), level_, by_region_, by_disease_, by_sex_, by_year_};
    StrataCounter map(plan);
    const auto strata = ctx.engine().reduce_by_key<CaseKey, std::int64_t>(input, map, std::plus<>{});
    // One pair per stratum, not per case: re-keyed by output row, 18 counts per value.
    ResultBatches<CaseKey, std::int64_t> counted(strata);
    const auto by_row = [](const std::vector<std::pair<CaseKey, std::int64_t>>& batch, auto& emit) {
      for (const auto& [k, n] : batch) {
        const auto& [region, disease, sex, year, group] = k;
        AgeCounts d{};
        d[group] = n;
        emit(RowKey{region, disease, sex, year}, d);
      }
    };
    const auto add = [](const AgeCounts& a, const AgeCounts& b) {
      AgeCounts sum;
      for (std::size_t g = 0; g < kAgeGroups; ++g) sum[g] = a[g] + b[g];
      return sum;
    };
    return ctx.engine().reduce_by_key<RowKey, AgeCounts>(counted, by_row, add);
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
      auto& sum = out[PopKey{by_region_ ? region_at(level_, region) : 0u, by_year_ ? year : std::uint16_t{0},
                             by_sex_ ? sex : std::uint8_t{0}, group}];
      sum = add_population(sum, v);
    }
    for (const auto& [k, v] : out) {
      if (v != std::numeric_limits<std::int64_t>::max()) continue;
      const auto& [region, year, sex, group] = k;
      population_overflow(where, "region " + std::to_string(region) + ", year " + std::to_string(year) + ", sex " +
                                     std::to_string(sex) + ", age group " + std::to_string(group) +
                                     " (0 = summed over)");
    }
    return out;
  }

  [[noreturn]] void missing_population(const RowKey& key, std::size_t group, std::int64_t cases, bool absent,
                                       const std::string& where) const {
    const auto& [region, disease, sex, year] = key;
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
    RowKey key;
    std::int64_t cases = 0, population = 0;
    double crude = 0, asr = 0, lower = 0, upper = 0;
  };

  /// Computes and writes this rank's rows (`cases`: a contiguous key range, ascending).
  void write_rows(JobContext& ctx, const KeyedResult<RowKey, AgeCounts>& cases,
                  const std::vector<std::pair<PopKey, std::int64_t>>& population_rows) {
    const std::string where = ctx.input_location("population");
    std::vector<Row> rows;
    // Local work that may find bad input on one rank only. The ranks agree on failure
    // right here, so every rank's checks are in the one agreement and the lowest failing
    // rank, which holds the first bad row in key order, is the one reported.
    agreed(ctx.comm(), [&] {
      const auto population = population_by_key(population_rows, where);
      cases.for_each([&](const RowKey& key, const AgeCounts& d) {
        const auto& [region, disease, sex, year] = key;
        AgeCounts n{};
        for (std::size_t g = 0; g < kAgeGroups; ++g) {
          const auto it = population.find(PopKey{region, year, sex, static_cast<std::uint8_t>(g)});
          n[g] = it == population.end() ? -1 : it->second;  // -1: absent
        }
        for (std::size_t g = 0; g < kAgeGroups; ++g) {
          if (d[g] > 0 && n[g] <= 0) missing_population(key, g, d[g], n[g] < 0, where);
        }
        rows.push_back(compute(key, d, n));
        if (rows.back().population == std::numeric_limits<std::int64_t>::max()) {
          population_overflow(where, "region " + std::to_string(region) + ", sex " + std::to_string(sex) + ", year " +
                                         std::to_string(year) + " summed over its age groups (0 = summed over)");
        }
      });
    });
    ctx.write(output(rows));
  }

  /// One output row from its age groups' cases d and populations n (−1 = absent; every
  /// group with cases has n > 0 here). Groups without cases and without population add
  /// nothing (their rate is taken as 0 rather than 0/0).
  Row compute(const RowKey& key, const AgeCounts& d, const AgeCounts& n) const {
    Row r{key};
    double y = 0, v = 0, wm = 0;
    for (std::size_t g = 0; g < kAgeGroups; ++g) {
      r.cases += d[g];
      if (n[g] <= 0) continue;
      r.population = add_population(r.population, n[g]);
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

  OutputTable output(const std::vector<Row>& rows) const {
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
    for (const Row& r : rows) {
      const auto& [region, disease, sex, year] = r.key;
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
