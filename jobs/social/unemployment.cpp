// social.unemployment — registered unemployment and early warning (contract:
// docs/contracts/jobs.md).
//
// A spell is registered in month m when start_day ≤ last day of m and (end_day = −1 or
// end_day > last day of m), i.e. in the months [month(start), month(end) − 1] (open-ended
// for −1). So each spell contributes +1 at month(start) and −1 at month(end) to a running
// sum per region, plus one new registration at month(start).
//
// How: reduce_by_key on (region, month) of those deltas over the spells (the only big
// input), and of employed over labour_force; both results are small (regions × months) and
// gathered; rank 0 walks each region's months in order, accumulating the registered stock,
// and writes one row per (region, month) of labour_force within the range.
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::social {
namespace {

using RegionMonth = std::pair<std::uint32_t, std::int32_t>;  // region_code, month index

struct Delta {
  std::int64_t registered = 0;  // change of the stock from this month on
  std::int64_t started = 0;     // spells starting in this month
};

class Unemployment final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "social.unemployment"; }
  [[nodiscard]] std::string summary() const override {
    return "registered unemployment stock, new registrations, rate, warning level and surge per region and month";
  }

  void declare(JobSpec& spec) override {
    spec.input("unemployment", "registered unemployment spells",
               {{"person_id", DType::u64}, {"region_code", DType::u32}, {"start_day", DType::i32},
                {"end_day", DType::i32}});
    spec.input("labour_force", "urban employed persons per region and month",
               {{"region_code", DType::u32}, {"month", DType::i32}, {"employed", DType::i64}});
    region_level_.declare(spec);
    spec.option("yellow", &yellow_, 3.5, "warning 1 when rate >= this (percent)").in_range(0.0, 100.0);
    spec.option("orange", &orange_, 4.5, "warning 2 when rate >= this (percent)").in_range(0.0, 100.0);
    spec.option("red", &red_, 5.5, "warning 3 when rate >= this (percent)").in_range(0.0, 100.0);
    spec.option("from-month", &from_, 0, "first month (yyyymm); default: all of labour_force").at_least(0);
    spec.option("to-month", &to_, 0, "last month (yyyymm); default: all of labour_force").at_least(0);
    spec.output("unemployment", "one row per (region, month) of labour_force within the range",
                {{"region_code", DType::u32}, {"month", DType::i32}, {"registered", DType::i64},
                 {"new_registrations", DType::i64}, {"employed", DType::i64}, {"rate", DType::f64},
                 {"warning", DType::u8}, {"surge", DType::u8}});
  }

  void run(JobContext& ctx) override {
    const RegionLevel level = region_level_.parse();
    check_options();

    const std::string spells_at = ctx.input_location("unemployment");
    TableInput spells = ctx.input("unemployment");
    const auto deltas = ctx.engine()
                            .reduce_by_key<RegionMonth, Delta>(
                                spells,
                                [&](const TableBatch& b, auto& emit) {
                                  const auto region = b.column<std::uint32_t>("region_code");
                                  const auto start = b.column<std::int32_t>("start_day");
                                  const auto end = b.column<std::int32_t>("end_day");
                                  for (std::size_t i = 0; i < b.rows(); ++i) {
                                    if (end[i] < -1) {
                                      throw InputError(spells_at + ": column 'end_day' is " + std::to_string(end[i]) +
                                                       " at row " + std::to_string(b.first_row() + i) +
                                                       " (a day number, or -1 for still registered)");
                                    }
                                    const std::uint32_t r = region_at(level, region[i]);
                                    const std::int32_t first = month_index(month_of_day(start[i]));
                                    emit(RegionMonth{r, first}, Delta{1, 1});
                                    // Registered through month(end) - 1; an end in or before the start
                                    // month makes the range empty (+1 and -1 cancel from there on).
                                    if (end[i] != -1) {
                                      emit(RegionMonth{r, std::max(first, month_index(month_of_day(end[i])))},
                                           Delta{-1, 0});
                                    }
                                  }
                                },
                                [](const Delta& a, const Delta& b) {
                                  return Delta{a.registered + b.registered, a.started + b.started};
                                })
                            .gather(ctx.comm());

    const std::string lf_at = ctx.input_location("labour_force");
    TableInput lf = ctx.input("labour_force");
    const auto employed = ctx.engine()
                              .reduce_by_key<RegionMonth, std::int64_t>(
                                  lf,
                                  [&](const TableBatch& b, auto& emit) {
                                    const auto region = b.column<std::uint32_t>("region_code");
                                    const auto month = b.column<std::int32_t>("month");
                                    const auto n = b.column<std::int64_t>("employed");
                                    for (std::size_t i = 0; i < b.rows(); ++i) {
                                      if (!valid_month(month[i])) {
                                        throw InputError(lf_at + ": column 'month' is " + std::to_string(month[i]) +
                                                         " at row " + std::to_string(b.first_row() + i) +
                                                         ", not a yyyymm month");
                                      }
                                      emit(RegionMonth{region_at(level, region[i]), month_index(month[i])}, n[i]);
                                    }
                                  },
                                  std::plus<>{})
                              .gather(ctx.comm());

    OutputTable out = ctx.output_table("unemployment");
    if (ctx.is_root()) write_rows(deltas, employed, out);
    ctx.write(std::move(out));
  }

 private:
  void check_options() const {
    for (const auto& [name, v] : {std::pair{"yellow", yellow_}, {"orange", orange_}, {"red", red_}}) {
      if (!std::isfinite(v)) throw InputError(std::string("social.unemployment: --") + name + " must be a finite number");
    }
    if (!(yellow_ <= orange_ && orange_ <= red_)) {
      throw InputError("social.unemployment: thresholds must satisfy --yellow <= --orange <= --red");
    }
    for (const auto& [name, v] : {std::pair{"from-month", from_}, {"to-month", to_}}) {
      if (v != 0 && !valid_month(v)) {
        throw InputError(std::string("social.unemployment: --") + name + " " + std::to_string(v) +
                         " is not a month yyyymm (e.g. 202403)");
      }
    }
    if (from_ != 0 && to_ != 0 && from_ > to_) {
      throw InputError("social.unemployment: --from-month is after --to-month");
    }
  }

  void write_rows(const std::vector<std::pair<RegionMonth, Delta>>& deltas,
                  const std::vector<std::pair<RegionMonth, std::int64_t>>& employed, OutputTable& out) const {
    // Per region: month index -> delta, in month order (both inputs are sorted by region, month).
    std::map<std::uint32_t, std::vector<std::pair<std::int32_t, Delta>>> by_region;
    for (const auto& [k, d] : deltas) by_region[k.first].emplace_back(k.second, d);
    static const std::vector<std::pair<std::int32_t, Delta>> none;

    std::uint32_t region = 0;
    const std::vector<std::pair<std::int32_t, Delta>>* months = nullptr;
    std::size_t at = 0;              // next delta of `months` not yet in `stock`
    std::int64_t stock = 0;          // registered at the end of the current month
    for (const auto& [k, e] : employed) {
      const std::int32_t m = k.second;
      const std::int32_t yyyymm = month_from_index(m);
      if ((from_ != 0 && yyyymm < from_) || (to_ != 0 && yyyymm > to_)) continue;
      if (months == nullptr || k.first != region) {
        region = k.first;
        const auto it = by_region.find(region);
        months = it == by_region.end() ? &none : &it->second;
        at = 0;
        stock = 0;
      }
      while (at < months->size() && (*months)[at].first <= m) stock += (*months)[at++].second.registered;
      // New registrations in m and in the 12 months before it (0 where none started).
      std::int64_t started = 0;
      double sum = 0;
      std::vector<double> before(12, 0.0);
      for (const auto& [mi, d] : *months) {
        if (mi == m) started = d.started;
        if (mi >= m - 12 && mi < m) before[static_cast<std::size_t>(mi - (m - 12))] = static_cast<double>(d.started);
      }
      for (const double v : before) sum += v;
      const double mean = sum / 12;
      double ss = 0;
      for (const double v : before) ss += (v - mean) * (v - mean);
      const double sd = std::sqrt(ss / 11);
      const std::uint8_t surge = static_cast<double>(started) > mean + 3 * sd ? 1 : 0;

      const double rate = static_cast<double>(stock) / static_cast<double>(e + stock) * 100;
      const std::uint8_t warning = rate >= red_ ? 3 : rate >= orange_ ? 2 : rate >= yellow_ ? 1 : 0;
      out.append(region, yyyymm, stock, started, e, rate, warning, surge);
    }
  }

  RegionLevelOption region_level_;
  double yellow_ = 3.5, orange_ = 4.5, red_ = 5.5;
  std::int32_t from_ = 0, to_ = 0;
};

}  // namespace
PEARL_REGISTER_JOB(Unemployment);
}  // namespace pearl::jobs::social
