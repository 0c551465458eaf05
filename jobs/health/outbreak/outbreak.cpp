// health.outbreak — EARS C1/C2/C3 aberration detection per series (contract: jobs.md;
// method and formulas: docs/jobs/health.outbreak.md; reference: R surveillance::earsC).
//
// Dataflow, four engine steps:
//   1. reduce_by_key   (series, day) -> cases               [counted in the map first,
//                      day_counter.hpp; the one read of the cases]
//      allreduce of the longest disease, which sizes the series key (series_key.hpp),
//      and of the first and last day: the default --from/--to
//   2. group_by_key    series key -> (day, cases) sorted    [one series on one rank]
//      each series zero-filled over [from, to], C1/C2/C3 computed (ears.hpp)
//   3. reduce_by_key   (key, day, method) -> row            [keys are unique: no folding]
//   4. sort_globally   range partition, so the ranks' parts written in rank order are
//                      sorted by key, day, method whatever the number of ranks.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <tuple>
#include <utility>

#include "day_counter.hpp"
#include "ears.hpp"
#include "pearl/job.hpp"
#include "series_key.hpp"

namespace pearl::jobs {
namespace {

using ears::Method;

/// Batches of a local vector (step 3's source).
template <class T>
class VectorSource {
 public:
  using Batch = std::span<const T>;
  explicit VectorSource(const std::vector<T>& v) : v_(v) {}
  std::optional<Batch> next() {
    if (at_ >= v_.size()) return std::nullopt;
    const std::size_t n = std::min<std::size_t>(kBatch, v_.size() - at_);
    const Batch b(v_.data() + at_, n);
    at_ += n;
    return b;
  }

 private:
  static constexpr std::size_t kBatch = 1 << 16;
  const std::vector<T>& v_;
  std::size_t at_ = 0;
};

/// An integer day option ("" = not given).
std::optional<std::int32_t> parse_day(const char* option, const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < std::numeric_limits<std::int32_t>::min() ||
      v > std::numeric_limits<std::int32_t>::max()) {
    throw InputError(std::string("option --") + option + ": '" + text + "' is not a day number (days since 1970-01-01)");
  }
  return static_cast<std::int32_t>(v);
}

class Outbreak final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "health.outbreak"; }
  [[nodiscard]] std::string summary() const override {
    return "EARS C1/C2/C3 aberration detection on daily case counts per region and disease";
  }

  void declare(JobSpec& spec) override {
    // The columns depend on --by and --date: declared here without them, passed in run.
    spec.input("cases", "notifiable-disease case reports (tables.md: cases)");
    region_level_.declare(spec);
    spec.option("by", &by_, "region,disease", "series key: region, disease, sex (comma-separated)");
    spec.option("date", &date_, "onset_day", "day column: onset_day or report_day");
    spec.option("methods", &methods_, "C1,C2,C3", "EARS methods: C1, C2, C3 (comma-separated)");
    spec.option("baseline", &baseline_, 7, "reference days per window (at least 3, as earsC)").at_least(3);
    spec.option("alpha", &alpha_, "", "one-sided level: upperbound uses z(1 - alpha)")
        .shown_as("0.001 for C1 and C2, 0.025 for C3");
    spec.option("min-sigma", &min_sigma_, 0.0, "lower bound on the reference sd").at_least(0.0);
    spec.option("from", &from_, "", "first day of the series").shown_as("first day in the input");
    spec.option("to", &to_, "", "last day of the series").shown_as("last day in the input");
    spec.flag("only-alarms", &only_alarms_, "write only the rows with alarm = 1");
    // Key columns follow --by, so the columns are not fixed: see docs/jobs/health.outbreak.md.
    spec.output("alarms", "key columns, day, method, observed, upperbound, alarm; sorted by key, day, method");
  }

  void run(JobContext& ctx) override {
    check_options();
    // 1. cases per (series, day), in one read.
    const auto has = [&](const char* part) {
      return std::find(by_parts_.begin(), by_parts_.end(), part) != by_parts_.end();
    };
    const DayCounter::Plan plan{level_, has("region"), has("sex"), has_disease_, date_};
    std::vector<ColumnSpec> columns = {{date_, DType::i32}};
    if (plan.by_region) columns.push_back({"region_code", DType::u32});
    if (plan.by_sex) columns.push_back({"sex", DType::u8});
    if (plan.by_disease) columns.push_back({"disease", DType::str});
    TableInput cases = ctx.input("cases", columns);
    auto counts = ctx.engine().reduce_by_key<SeriesDay, std::int64_t>(cases, DayCounter(plan), std::plus<>{});

    // The longest disease over all ranks sizes the key.
    std::int64_t longest = 0;
    counts.for_each([&](const SeriesDay& k, std::int64_t) {
      longest = std::max(longest, static_cast<std::int64_t>(disease_bytes(std::get<2>(k)).size()));
    });
    const auto width = static_cast<std::size_t>(allreduce_max(ctx.comm(), longest));
    key_.emplace(by_parts_, level_, width);
    const std::size_t bytes = key_->bytes();
    if (bytes <= 8) return run_typed<8>(ctx, std::move(counts));
    if (bytes <= 16) return run_typed<16>(ctx, std::move(counts));
    if (bytes <= 32) return run_typed<32>(ctx, std::move(counts));
    if (bytes <= 64) return run_typed<64>(ctx, std::move(counts));
    throw InputError("health.outbreak: disease codes of " + std::to_string(width) +
                     " bytes are too long for a series key (at most 59)");
  }

 private:
  /// Every option checked before any work; each error names its option.
  void check_options() {
    level_ = region_level_.parse();
    by_parts_ = parse_choices("by", by_, {"region", "disease", "sex"});
    has_disease_ = std::find(by_parts_.begin(), by_parts_.end(), "disease") != by_parts_.end();
    if (date_ != "onset_day" && date_ != "report_day") {
      throw InputError("option --date: '" + date_ + "' is not one of: onset_day, report_day");
    }
    methods_list_.clear();
    for (const auto& m : parse_choices("methods", methods_, {"C1", "C2", "C3"})) {
      methods_list_.push_back(m == "C1" ? Method::C1 : m == "C2" ? Method::C2 : Method::C3);
    }
    std::sort(methods_list_.begin(), methods_list_.end());  // output order is C1 < C2 < C3
    alpha_given_.reset();
    if (!alpha_.empty()) {
      const double a = parse_numbers("alpha", alpha_, 1).front();
      if (!(a > 0 && a < 1)) throw InputError("option --alpha: " + alpha_ + " is not strictly between 0 and 1");
      alpha_given_ = a;
    }
    from_day_ = parse_day("from", from_);
    to_day_ = parse_day("to", to_);
    if (from_day_ && to_day_ && *from_day_ > *to_day_) {
      throw InputError("option --from: day " + from_ + " is after --to day " + to_);
    }
  }

  double z_of(Method m) const {
    if (alpha_given_) return ears::z_quantile(*alpha_given_);
    return ears::z_quantile(m == Method::C3 ? 0.025 : 0.001);  // earsC's defaults
  }

  template <std::size_t N>
  void run_typed(JobContext& ctx, KeyedResult<SeriesDay, std::int64_t> counts) {
    using Key = FixedString<N>;
    using RowKey = std::tuple<Key, std::int32_t, std::uint8_t>;      // key, day, method
    using Row = std::tuple<std::int64_t, double, std::uint8_t>;      // observed, upperbound, alarm
    const SeriesKey& key = *key_;

    // The defaults of --from/--to: the first and last day present in the whole input.
    std::int64_t first = std::numeric_limits<std::int64_t>::max(), last = std::numeric_limits<std::int64_t>::min();
    counts.for_each([&](const SeriesDay& k, std::int64_t) {
      first = std::min<std::int64_t>(first, std::get<3>(k));
      last = std::max<std::int64_t>(last, std::get<3>(k));
    });
    first = allreduce_min(ctx.comm(), first);
    last = allreduce_max(ctx.comm(), last);
    const bool empty_input = first > last;
    const std::int64_t from = from_day_ ? *from_day_ : first;
    const std::int64_t to = to_day_ ? *to_day_ : last;
    if (!empty_input && from > to) {
      throw InputError("option --" + std::string(from_day_ ? "from" : "to") + ": the series would be empty: from day " +
                       std::to_string(from) + " is after to day " + std::to_string(to) +
                       (from_day_ && to_day_ ? "" : " (the input's " + std::string(from_day_ ? "last" : "first") + " day)"));
    }

    // 2. each series on one rank, its days ascending. Days outside [from, to] travel too:
    // every key with a case anywhere in the input gets a series (contract), even one whose
    // cases all fall outside the window (an all-zero series).
    // The counts, then the series, are released as soon as the next step has what it needs
    // (both live inside this lambda): only the rows are held when they are sorted.
    const auto length = empty_input ? 0 : static_cast<std::size_t>(to - from + 1);
    auto rows = [&, held = std::move(counts)]() mutable {
      const auto series = [&] {
        const KeyedResult<SeriesDay, std::int64_t> mine = std::move(held);  // released once grouped
        ResultBatches<SeriesDay, std::int64_t> counted(mine, 1 << 16);
        return ctx.engine().group_by_key<Key, std::pair<std::int32_t, std::int64_t>>(
            counted,
            [&key](const std::vector<std::pair<SeriesDay, std::int64_t>>& batch, auto& emit) {
              for (const auto& [k, n] : batch) {
                const auto& [region, sex, disease, day] = k;
                Key bytes{};  // zero-filled: unused bytes compare equal
                key.encode(region, sex, disease_bytes(disease), reinterpret_cast<unsigned char*>(bytes.bytes.data()));
                emit(bytes, std::pair<std::int32_t, std::int64_t>{day, n});
              }
            },
            GroupOptions{.sort_values = true});
      }();

      std::vector<std::pair<RowKey, Row>> made;
      std::vector<double> y;
      std::vector<double> z(4);
      for (const Method m : methods_list_) z[static_cast<std::size_t>(m)] = z_of(m);
      series.for_each_group([&](const Key& k, std::span<const std::pair<std::int32_t, std::int64_t>> days) {
        y.assign(length, 0.0);  // zero-filled: a day without cases counts 0
        for (const auto& [day, n] : days) {
          if (day >= from && day <= to) y[static_cast<std::size_t>(day - from)] = static_cast<double>(n);
        }
        for (const Method m : methods_list_) {
          const auto bounds = ears::upperbounds(m, y, baseline_, z[static_cast<std::size_t>(m)], min_sigma_);
          const std::size_t at = ears::first_defined(m, baseline_);
          for (std::size_t j = 0; j < bounds.size(); ++j) {
            const double observed = y[at + j];
            const bool alarm = ears::alarm(observed, bounds[j]);
            if (only_alarms_ && !alarm) continue;
            made.emplace_back(
                RowKey{k, static_cast<std::int32_t>(from + static_cast<std::int64_t>(at + j)),
                       static_cast<std::uint8_t>(m)},
                Row{static_cast<std::int64_t>(observed), bounds[j], static_cast<std::uint8_t>(alarm ? 1 : 0)});
          }
        }
      });
      return made;
    }();

    // 3 and 4. rows into a keyed result, then range-partitioned for ordered writing.
    VectorSource<std::pair<RowKey, Row>> produced(rows);
    auto keyed = ctx.engine().reduce_by_key<RowKey, Row>(
        produced,
        [](std::span<const std::pair<RowKey, Row>> batch, auto& emit) {
          for (const auto& [k, r] : batch) emit(k, r);
        },
        [](const Row& a, const Row&) { return a; });  // never called: each row's key is unique
    rows = {};
    const auto sorted = ctx.engine().sort_globally(std::move(keyed));

    std::vector<ColumnSpec> specs = key.output_columns();
    const std::size_t kColumns = specs.size();
    specs.insert(specs.end(), {{"day", DType::i32},
                               {"method", DType::str},
                               {"observed", DType::i64},
                               {"upperbound", DType::f64},
                               {"alarm", DType::u8}});
    OutputTable out("alarms", specs);
    sorted.for_each([&](const RowKey& k, const Row& r) {
      key.decode(reinterpret_cast<const unsigned char*>(std::get<0>(k).bytes.data()), out);
      out.column<std::int32_t>(kColumns).push_back(std::get<1>(k));
      out.column<std::string>(kColumns + 1).emplace_back(ears::method_name(static_cast<Method>(std::get<2>(k))));
      out.column<std::int64_t>(kColumns + 2).push_back(std::get<0>(r));
      out.column<double>(kColumns + 3).push_back(std::get<1>(r));
      out.column<std::uint8_t>(kColumns + 4).push_back(std::get<2>(r));
    });
    ctx.write(std::move(out));
  }

  RegionLevelOption region_level_;
  std::string by_, date_, methods_, alpha_, from_, to_;
  int baseline_ = 7;
  double min_sigma_ = 0;
  bool only_alarms_ = false;

  RegionLevel level_ = RegionLevel::city;
  std::vector<std::string> by_parts_;
  bool has_disease_ = false;
  std::vector<Method> methods_list_;
  std::optional<double> alpha_given_;
  std::optional<std::int32_t> from_day_, to_day_;
  std::optional<SeriesKey> key_;
};

}  // namespace
PEARL_REGISTER_JOB(Outbreak);
}  // namespace pearl::jobs
