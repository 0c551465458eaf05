// social.anomalies' rules: the interface each rule implements, and what it gets to work with.
//
// A rule is a class in its own file (rule_<name>.cpp) that reads the inputs it needs from
// the RuleContext, runs its own distributed join or aggregation on the engine, and reports
// the claims it flags to a FlagSink on the rank where it finds them; the job merges all
// rules' flags into the sorted `flags` table and the `summary`. To add a rule: copy the
// shortest rule file, change name() and run(), register it with PEARL_SOCIAL_RULE, list the
// file in CMakeLists.txt, and document it in docs/jobs/social.anomalies.md.
//
// Every rank runs every rule, in name order, so the collectives inside rules line up.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::social {

/// A claim as it travels through a join (40 bytes, no padding). `side` tags which table a
/// joined value comes from (0 = claims; other tables reuse the struct with their own
/// meaning, documented in the rule that does).
struct ClaimRow {
  std::uint64_t claim_id = 0;
  std::uint64_t person_id = 0;
  double amount = 0;
  std::int32_t claim_day = 0;
  std::uint32_t region_code = 0;
  std::uint8_t benefit = 0;
  std::uint8_t side = 0;
  std::uint8_t pad[6] = {};
};
static_assert(sizeof(ClaimRow) == 40);

/// The columns of a batch of the `claims` input, and its rows as ClaimRows.
struct ClaimColumns {
  explicit ClaimColumns(const TableBatch& b)
      : id(b.column<std::uint64_t>("claim_id")), person(b.column<std::uint64_t>("person_id")),
        region(b.column<std::uint32_t>("region_code")), benefit(b.column<std::uint8_t>("benefit")),
        day(b.column<std::int32_t>("claim_day")), amount(b.column<double>("amount")) {}
  [[nodiscard]] ClaimRow row(std::size_t i) const noexcept {
    ClaimRow c;
    c.claim_id = id[i];
    c.person_id = person[i];
    c.amount = amount[i];
    c.claim_day = day[i];
    c.region_code = region[i];
    c.benefit = benefit[i];
    return c;
  }
  std::span<const std::uint64_t> id, person;
  std::span<const std::uint32_t> region;
  std::span<const std::uint8_t> benefit;
  std::span<const std::int32_t> day;
  std::span<const double> amount;
};

/// Calls f(ClaimRow) for each row of a batch of the `claims` input.
template <class F>
void for_each_claim(const TableBatch& b, F&& f) {
  const ClaimColumns columns(b);
  for (std::size_t i = 0; i < b.rows(); ++i) f(columns.row(i));
}

/// Throws InputError unless row i of a `claims` batch has a finite amount (NaN would make
/// the order, and so a median, undefined). `where`: the input's location.
inline void require_finite_amount(const std::string& where, const TableBatch& b, std::size_t i, double amount) {
  if (!std::isfinite(amount)) {
    throw InputError(where + ": column 'amount' has a non-finite value at row " + std::to_string(b.first_row() + i) +
                     "; social.anomalies needs finite amounts");
  }
}

/// City-level region code (contract: region_code truncated to 4 digits + "00").
constexpr std::uint32_t city_of(std::uint32_t region_code) noexcept { return region_at(RegionLevel::city, region_code); }

struct AnomalyOptions {
  std::int32_t grace_days = 31;
  double outlier_z = 5;
};

/// What a rule may use: the options, the engine, and the inputs (each call opens the table
/// afresh for one pass; collective).
class RuleContext {
 public:
  RuleContext(JobContext& job, AnomalyOptions options) : job_(job), options_(options) {}
  [[nodiscard]] const AnomalyOptions& options() const noexcept { return options_; }
  Engine& engine() noexcept { return job_.engine(); }
  Communicator& comm() noexcept { return job_.comm(); }
  [[nodiscard]] bool has_input(const std::string& table) const { return job_.has_input(table); }
  [[nodiscard]] std::string where(const std::string& table) const { return job_.input_location(table); }
  /// This rank's batches of an input table, with the columns the job declared for it.
  TableInput input(const std::string& table) { return job_.input(table); }

 private:
  JobContext& job_;
  AnomalyOptions options_;
};

/// The name of a rule as it travels with a flag (the `rule` column).
using RuleName = FixedString<24>;
/// A flag's key: claim_id, rule — the `flags` table's order.
using FlagKey = std::pair<std::uint64_t, RuleName>;

/// A flagged claim's other columns (40 bytes, no padding).
struct FlagRow {
  std::uint64_t person_id;
  double amount;
  double detail;
  std::int32_t claim_day;
  std::uint32_t region_code;
  std::uint8_t benefit;
  std::uint8_t pad[7];
};
static_assert(sizeof(FlagRow) == 40);

/// Where rules report the claims they flag (this rank's finds), one sink for all rules.
/// Flags are kept within a share of the memory budget and spill to scratch beyond it,
/// so a rule that flags millions of claims does not break `--memory`.
class FlagSink {
 public:
  using Entry = std::pair<FlagKey, FlagRow>;
  FlagSink(const std::filesystem::path& scratch, MemoryLease share) : flags_(scratch, "flags", std::move(share)) {}
  /// The rule whose flags follow.
  void begin_rule(const std::string& name) { rule_ = RuleName(name); }
  void flag(const ClaimRow& c, double detail) { flag(c, detail, rule_); }
  /// A flag of a named rule (for plans that evaluate several rules in one pass).
  void flag(const ClaimRow& c, double detail, const RuleName& rule) {
    flags_.push(Entry{FlagKey{c.claim_id, rule},
                      FlagRow{c.person_id, c.amount, detail, c.claim_day, c.region_code, c.benefit, {}}});
  }
  /// All rules' flags, as a batch source (read once, after the last rule).
  SpillingBuffer<Entry>& flags() noexcept { return flags_; }

 private:
  RuleName rule_;
  SpillingBuffer<Entry> flags_;
};

class Rule {
 public:
  Rule() = default;
  Rule(const Rule&) = delete;
  Rule& operator=(const Rule&) = delete;
  virtual ~Rule() = default;
  /// The `rule` value in the output (at most 23 bytes).
  [[nodiscard]] virtual std::string name() const = 0;
  /// Whether the rule is evaluated in this run (e.g. only when an optional input is given).
  /// Must give the same answer on every rank.
  [[nodiscard]] virtual bool evaluated(const RuleContext&) const { return true; }
  /// Collective: evaluates the rule, reporting this rank's flagged claims to `flags`.
  virtual void run(RuleContext& ctx, FlagSink& flags) = 0;
};

/// The rules linked into the program, in name order.
class RuleRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Rule>()>;
  static bool add(Factory make) {
    factories().push_back(std::move(make));
    return true;
  }
  static std::vector<std::unique_ptr<Rule>> make_all() {
    std::vector<std::unique_ptr<Rule>> rules;
    for (const auto& f : factories()) rules.push_back(f());
    std::sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) { return a->name() < b->name(); });
    return rules;
  }

 private:
  static std::vector<Factory>& factories() {
    static std::vector<Factory> f;
    return f;
  }
};

/// Evaluates the rules it knows (all four built-in ones) from one read of each input
/// table, keeping this rank's claims in memory (screen_in_memory.cpp), when they fit its
/// share of `--memory`; returns the names of the rules it evaluated, none when they do not
/// fit (the caller then runs each rule's own dataflow). Collective; the same answer on
/// every rank.
std::vector<std::string> screen_in_memory(RuleContext& ctx, FlagSink& flags);

}  // namespace pearl::jobs::social

/// Registers a rule class of social.anomalies (in the rule's .cpp, at namespace scope).
#define PEARL_SOCIAL_RULE(Type)                                  \
  [[maybe_unused]] static const bool pearl_social_rule_##Type = \
      ::pearl::jobs::social::RuleRegistry::add([] { return std::make_unique<Type>(); })
