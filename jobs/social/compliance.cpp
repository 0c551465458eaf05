// social.compliance — contribution collection per key (contract: docs/contracts/jobs.md).
//
// Output `compliance`: the --by key columns, persons, employers (exact distinct counts),
// due, paid, arrears = Σ max(0, due − paid), collection_rate = paid / due (NaN when due = 0),
// underpaid (records with paid < due − 0.005), suppressed. Small-cell suppression applies to
// `persons` (--min-cell): a suppressed cell has persons, employers and underpaid −1 and the
// money columns and the rate NaN.
//
// How (three shuffles, all bounded by --memory, no sketches):
//  1. reduce_by_key on (key, kind, id): kind 0 = person, carrying that person's money in the
//     cell; kind 1 = employer, carrying nothing. Each distinct (cell, person) and
//     (cell, employer) is one entry after this step, wherever its rows were read.
//  2. reduce_by_key of step 1's entries by the cell key alone: one per entry counts exactly
//     one distinct person or employer; the money is folded along.
//  3. sort_globally, so rank parts written in rank order form one sorted table.
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common.hpp"
#include "pearl/core/job.hpp"
#include "pearl/core/options.hpp"
#include "pearl/core/region.hpp"
#include "pearl/core/suppression.hpp"

namespace pearl::jobs::social {
namespace {

/// The cell key: one slot per --by column in the order given, unused slots 0. Signed months
/// are stored with the sign bit flipped so that unsigned order is numeric order.
using CellKey = std::array<std::uint32_t, 4>;

struct Money {
  Sum due;
  Sum paid;
  Sum arrears;
  std::int64_t underpaid = 0;
};

struct Cell {
  std::int64_t persons = 0;
  std::int64_t employers = 0;
  Money money;
};

Money fold(Money a, const Money& b) {
  a.due.add(b.due);
  a.paid.add(b.paid);
  a.arrears.add(b.arrears);
  a.underpaid += b.underpaid;
  return a;
}

enum class Dim : std::uint8_t { region, insurance, industry, month };

constexpr std::uint32_t flip(std::int32_t v) noexcept { return static_cast<std::uint32_t>(v) ^ 0x80000000U; }
constexpr std::int32_t unflip(std::uint32_t v) noexcept { return static_cast<std::int32_t>(v ^ 0x80000000U); }

class Compliance final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "social.compliance"; }
  [[nodiscard]] std::string summary() const override {
    return "contribution collection: distinct persons and employers, due, paid, arrears, collection rate";
  }

  void declare(JobSpec& spec) override {
    spec.input("contributions", "monthly social-insurance contribution records",
               {{"person_id", DType::u64}, {"employer_id", DType::u64}, {"region_code", DType::u32},
                {"industry", DType::u8}, {"month", DType::i32}, {"insurance", DType::u8},
                {"due", DType::f64}, {"paid", DType::f64}});
    spec.options().add_options()
        ("by", po::value(&by_)->default_value("region,insurance,month"),
         "key columns, a subset of region, insurance, industry, month (in output order)");
    region_level_.declare(spec);
    small_cells_.declare(spec, "persons");
    // Columns depend on --by: declared without them and built in run().
    spec.output("compliance", "one row per key: persons, employers, due, paid, arrears, collection_rate, "
                              "underpaid, suppressed");
  }

  void run(JobContext& ctx) override {
    small_cells_.check();
    const RegionLevel level = region_level_.parse();
    std::vector<Dim> dims;
    for (const auto& c : parse_choices("by", by_, {"region", "insurance", "industry", "month"})) {
      dims.push_back(c == "region" ? Dim::region : c == "insurance" ? Dim::insurance
                     : c == "industry"                           ? Dim::industry
                                                                 : Dim::month);
    }

    using EntryKey = std::tuple<CellKey, std::uint8_t, std::uint64_t>;
    TableInput rows = ctx.input("contributions");
    const auto entries = ctx.engine().reduce_by_key<EntryKey, Money>(
        rows,
        [&](const TableBatch& b, auto& emit) {
          const auto person = b.column<std::uint64_t>("person_id");
          const auto employer = b.column<std::uint64_t>("employer_id");
          const auto region = b.column<std::uint32_t>("region_code");
          const auto industry = b.column<std::uint8_t>("industry");
          const auto month = b.column<std::int32_t>("month");
          const auto insurance = b.column<std::uint8_t>("insurance");
          const auto due = b.column<double>("due");
          const auto paid = b.column<double>("paid");
          for (std::size_t i = 0; i < b.rows(); ++i) {
            CellKey key{};
            for (std::size_t d = 0; d < dims.size(); ++d) {
              switch (dims[d]) {
                case Dim::region: key[d] = region_at(level, region[i]); break;
                case Dim::insurance: key[d] = insurance[i]; break;
                case Dim::industry: key[d] = industry[i]; break;
                case Dim::month: key[d] = flip(month[i]); break;
              }
            }
            Money m;
            m.due.add(due[i]);
            m.paid.add(paid[i]);
            m.arrears.add(due[i] > paid[i] ? due[i] - paid[i] : 0.0);
            m.underpaid = paid[i] < due[i] - 0.005 ? 1 : 0;
            emit(EntryKey{key, 0, person[i]}, m);
            emit(EntryKey{key, 1, employer[i]}, Money{});
          }
        },
        fold);

    ResultBatches<EntryKey, Money> distinct(entries);
    auto cells = ctx.engine().reduce_by_key<CellKey, Cell>(
        distinct,
        [](const std::vector<std::pair<EntryKey, Money>>& batch, auto& emit) {
          for (const auto& [k, m] : batch) {
            Cell c;
            if (std::get<1>(k) == 0) {
              c.persons = 1;
              c.money = m;
            } else {
              c.employers = 1;
            }
            emit(std::get<0>(k), c);
          }
        },
        [](const Cell& a, const Cell& b) { return Cell{a.persons + b.persons, a.employers + b.employers, fold(a.money, b.money)}; });
    const auto sorted = ctx.engine().sort_globally(std::move(cells));

    std::vector<ColumnSpec> specs;
    for (const Dim d : dims) {
      switch (d) {
        case Dim::region: specs.push_back({"region_code", DType::u32}); break;
        case Dim::insurance: specs.push_back({"insurance", DType::u8}); break;
        case Dim::industry: specs.push_back({"industry", DType::u8}); break;
        case Dim::month: specs.push_back({"month", DType::i32}); break;
      }
    }
    const std::size_t k = specs.size();
    for (const auto& [n, t] : std::vector<std::pair<const char*, DType>>{
             {"persons", DType::i64}, {"employers", DType::i64}, {"due", DType::f64}, {"paid", DType::f64},
             {"arrears", DType::f64}, {"collection_rate", DType::f64}, {"underpaid", DType::i64},
             {"suppressed", DType::u8}}) {
      specs.push_back({n, t});
    }
    OutputTable out("compliance", specs);
    sorted.for_each([&](const CellKey& key, const Cell& c) {
      for (std::size_t d = 0; d < k; ++d) {
        switch (dims[d]) {
          case Dim::region: out.column<std::uint32_t>(d).push_back(key[d]); break;
          case Dim::insurance: out.column<std::uint8_t>(d).push_back(static_cast<std::uint8_t>(key[d])); break;
          case Dim::industry: out.column<std::uint8_t>(d).push_back(static_cast<std::uint8_t>(key[d])); break;
          case Dim::month: out.column<std::int32_t>(d).push_back(unflip(key[d])); break;
        }
      }
      const bool hide = small_cells_.applies(c.persons);
      const double due = c.money.due.value();
      const double paid = c.money.paid.value();
      const double rate = due == 0 ? std::nan("") : paid / due;
      out.column<std::int64_t>(k + 0).push_back(SmallCellSuppression::count(c.persons, hide));
      out.column<std::int64_t>(k + 1).push_back(SmallCellSuppression::count(c.employers, hide));
      out.column<double>(k + 2).push_back(SmallCellSuppression::rate(due, hide));
      out.column<double>(k + 3).push_back(SmallCellSuppression::rate(paid, hide));
      out.column<double>(k + 4).push_back(SmallCellSuppression::rate(c.money.arrears.value(), hide));
      out.column<double>(k + 5).push_back(SmallCellSuppression::rate(rate, hide));
      // underpaid counts records of < min-cell persons: a count column, suppressed too.
      out.column<std::int64_t>(k + 6).push_back(SmallCellSuppression::count(c.money.underpaid, hide));
      out.column<std::uint8_t>(k + 7).push_back(SmallCellSuppression::flag(hide));
    });
    ctx.write(std::move(out));
  }

 private:
  std::string by_ = "region,insurance,month";
  RegionLevelOption region_level_;
  SmallCellSuppression small_cells_;
};

}  // namespace
PEARL_REGISTER_JOB(Compliance);
}  // namespace pearl::jobs::social
