// social.compliance — contribution collection per key (contract: docs/contracts/jobs.md).
//
// Output `compliance`: the --by key columns, persons, employers (exact distinct counts),
// due, paid, arrears = Σ max(0, due − paid), collection_rate = paid / due (NaN when due = 0),
// underpaid (records with paid < due − 0.005), suppressed. Small-cell suppression applies to
// `persons` (--min-cell): a suppressed cell has persons, employers and underpaid −1 and the
// money columns and the rate NaN.
//
// How: in memory when the distinct (cell, person) and (cell, employer) pairs fit the
// tables' share of --memory (compliance_in_memory.cpp: one read, one exchange of the
// pairs, one reduce-scatter of the cells). Otherwise through the engine, which spills
// (three shuffles, no sketches):
//  1. reduce_by_key on (key, kind, id): kind 0 = person, carrying that person's money in the
//     cell; kind 1 = employer, carrying nothing. Each distinct (cell, person) and
//     (cell, employer) is one entry after this step, wherever its rows were read.
//  2. reduce_by_key of step 1's entries by the cell key alone: one per entry counts exactly
//     one distinct person or employer; the money is folded along.
//  3. sort_globally, so rank parts written in rank order form one sorted table.
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "compliance_cells.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::social::compliance {

/// compliance_in_memory.cpp. Collective. Adds this rank's block of cells to `out` and
/// returns true, or returns false on every rank (nothing added) when the distinct pairs
/// outgrow the memory share on some rank.
bool cells_in_memory(JobContext& ctx, const CellKeyer& keyer, ComplianceOutput& out);

namespace {

/// The engine's path: bounded by --memory at any input size (it spills).
void cells_through_engine(JobContext& ctx, const CellKeyer& keyer, ComplianceOutput& out) {
  using EntryKey = std::tuple<CellKey, std::uint8_t, std::uint64_t>;
  TableInput rows = ctx.input("contributions");
  const auto entries = ctx.engine().reduce_by_key<EntryKey, Money>(
      rows,
      [&](const TableBatch& b, auto& emit) {
        const ContributionColumns c(b);
        for (std::size_t i = 0; i < c.rows; ++i) {
          const CellKey key = keyer.key(c, i);
          Money m;
          m.add(c.due[i], c.paid[i]);
          emit(EntryKey{key, 0, c.person[i]}, m);
          emit(EntryKey{key, 1, c.employer[i]}, Money{});
        }
      },
      [](const Money& a, const Money& b) { return fold(a, b); });

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
      [](const Cell& a, const Cell& b) { return fold(a, b); });
  const auto sorted = ctx.engine().sort_globally(std::move(cells));
  sorted.for_each([&](const CellKey& key, const Cell& c) { out.add(key, c); });
}

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
    spec.option("by", &by_, "region,insurance,month",
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
    const CellKeyer keyer(dims, level);
    ComplianceOutput out(dims, small_cells_);
    if (!cells_in_memory(ctx, keyer, out)) cells_through_engine(ctx, keyer, out);
    ctx.write(out.take());
  }

 private:
  std::string by_ = "region,insurance,month";
  RegionLevelOption region_level_;
  SmallCellSuppression small_cells_;
};

}  // namespace

ComplianceOutput::ComplianceOutput(const std::vector<Dim>& dims, const SmallCellSuppression& small_cells)
    : dims_(dims), small_cells_(small_cells), out_("compliance", columns(dims)) {}

std::vector<ColumnSpec> ComplianceOutput::columns(const std::vector<Dim>& dims) {
  std::vector<ColumnSpec> specs;
  for (const Dim d : dims) {
    switch (d) {
      case Dim::region: specs.push_back({"region_code", DType::u32}); break;
      case Dim::insurance: specs.push_back({"insurance", DType::u8}); break;
      case Dim::industry: specs.push_back({"industry", DType::u8}); break;
      case Dim::month: specs.push_back({"month", DType::i32}); break;
    }
  }
  for (const auto& [n, t] : std::vector<std::pair<const char*, DType>>{
           {"persons", DType::i64}, {"employers", DType::i64}, {"due", DType::f64}, {"paid", DType::f64},
           {"arrears", DType::f64}, {"collection_rate", DType::f64}, {"underpaid", DType::i64},
           {"suppressed", DType::u8}}) {
    specs.push_back({n, t});
  }
  return specs;
}

void ComplianceOutput::add(const CellKey& key, const Cell& c) {
  const std::size_t k = dims_.size();
  for (std::size_t d = 0; d < k; ++d) {
    switch (dims_[d]) {
      case Dim::region: out_.column<std::uint32_t>(d).push_back(key[d]); break;
      case Dim::insurance: out_.column<std::uint8_t>(d).push_back(static_cast<std::uint8_t>(key[d])); break;
      case Dim::industry: out_.column<std::uint8_t>(d).push_back(static_cast<std::uint8_t>(key[d])); break;
      case Dim::month: out_.column<std::int32_t>(d).push_back(unflip(key[d])); break;
    }
  }
  const bool hide = small_cells_.applies(c.persons);
  const double due = c.money.due.value();
  const double paid = c.money.paid.value();
  const double rate = due == 0 ? std::nan("") : paid / due;
  out_.column<std::int64_t>(k + 0).push_back(SmallCellSuppression::count(c.persons, hide));
  out_.column<std::int64_t>(k + 1).push_back(SmallCellSuppression::count(c.employers, hide));
  out_.column<double>(k + 2).push_back(SmallCellSuppression::rate(due, hide));
  out_.column<double>(k + 3).push_back(SmallCellSuppression::rate(paid, hide));
  out_.column<double>(k + 4).push_back(SmallCellSuppression::rate(c.money.arrears.value(), hide));
  out_.column<double>(k + 5).push_back(SmallCellSuppression::rate(rate, hide));
  // underpaid counts records of < min-cell persons: a count column, suppressed too.
  out_.column<std::int64_t>(k + 6).push_back(SmallCellSuppression::count(c.money.underpaid, hide));
  out_.column<std::uint8_t>(k + 7).push_back(SmallCellSuppression::flag(hide));
}

PEARL_REGISTER_JOB(Compliance);

}  // namespace pearl::jobs::social::compliance
