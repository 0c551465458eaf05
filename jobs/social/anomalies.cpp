// social.anomalies — benefit fraud and error rules (contract: docs/contracts/jobs.md).
//
// Inputs claims, deaths and optionally contributions. When this rank's claims fit its share
// of --memory, all rules are evaluated from one read of each table (screen_in_memory.cpp);
// otherwise each rule (rule_*.cpp, interface in rule.hpp) runs its own distributed join.
// Either way the flags are reported on the rank where they are found. The job then:
//  - reduces all flags by (claim_id, rule) and range-partitions them (sort_globally), so the
//    ranks' parts written in rank order form the `flags` table sorted by claim_id, rule;
//  - reduces count and amount per rule and writes `summary` on rank 0: one row per rule
//    evaluated (ui_while_employed only with contributions), zero counts included.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "pearl/job.hpp"
#include "rule.hpp"

namespace pearl::jobs::social {
namespace {

struct RuleTotal {
  std::int64_t claims = 0;
  Sum amount;
};

/// Claim ids are unique by contract; should one repeat, keep a deterministic one of its
/// flags (the fold must be commutative).
FlagRow pick(const FlagRow& a, const FlagRow& b) {
  const auto key = [](const FlagRow& r) {
    return std::tuple(r.person_id, r.claim_day, r.region_code, r.benefit, r.amount, r.detail);
  };
  return key(b) < key(a) ? b : a;
}

class Anomalies final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "social.anomalies"; }
  [[nodiscard]] std::string summary() const override {
    return "benefit fraud and error rules: paid after death, concurrent claims, UI while employed, amount outliers";
  }

  void declare(JobSpec& spec) override {
    spec.input("claims", "benefit payments",
               {{"claim_id", DType::u64}, {"person_id", DType::u64}, {"region_code", DType::u32},
                {"benefit", DType::u8}, {"claim_day", DType::i32}, {"amount", DType::f64}});
    spec.input("deaths", "civil death registrations", {{"person_id", DType::u64}, {"death_day", DType::i32}});
    spec.input("contributions", "monthly contribution records (enables ui_while_employed)",
               {{"person_id", DType::u64}, {"month", DType::i32}, {"insurance", DType::u8}, {"paid", DType::f64}},
               false);
    spec.option("grace-days", &options_.grace_days, 31, "paid_after_death: days after death before a claim is flagged")
        .at_least(0);
    spec.option("outlier-z", &options_.outlier_z, 5.0, "amount_outlier: flag claims with |robust z| above this")
        .positive();
    spec.output("flags", "one row per flagged claim and rule, sorted by claim_id, rule",
                {{"claim_id", DType::u64}, {"rule", DType::str}, {"person_id", DType::u64},
                 {"region_code", DType::u32}, {"benefit", DType::u8}, {"claim_day", DType::i32},
                 {"amount", DType::f64}, {"detail", DType::f64}});
    spec.output("summary", "one row per rule evaluated: flagged claims and their amount",
                {{"rule", DType::str}, {"claims", DType::i64}, {"amount", DType::f64}});
  }

  void run(JobContext& ctx) override {

    RuleContext rc(ctx, options_);
    const EngineOptions& engine = ctx.engine().options();
    FlagSink sink(engine.scratch, ctx.memory().lease("anomalies flags", MemoryShare::job_buffer));
    // One read of each table for all rules when this rank's claims fit in memory; each
    // rule's own dataflow (rule_*.cpp) for larger inputs and for any rule the in-memory
    // plan does not know.
    const std::vector<std::string> screened = screen_in_memory(rc, sink);
    if (!screened.empty()) {
      std::string names;
      for (const auto& n : screened) names += (names.empty() ? "" : ", ") + n;
      ctx.engine().progress("social.anomalies: " + names + " screened in memory, from one read of each table");
    }
    std::vector<std::string> evaluated;
    for (const auto& rule : RuleRegistry::make_all()) {
      if (!rule->evaluated(rc)) continue;
      evaluated.push_back(rule->name());
      if (std::find(screened.begin(), screened.end(), rule->name()) != screened.end()) continue;
      sink.begin_rule(rule->name());
      rule->run(rc, sink);
      ctx.engine().progress("social.anomalies: rule " + rule->name() + " done");
    }

    const auto by_claim = ctx.engine().reduce_by_key<FlagKey, FlagRow>(
        sink.flags(), forward_pairs, pick);
    const auto sorted = ctx.engine().sort_globally(by_claim);
    OutputTable flags = ctx.output_table("flags");
    sorted.for_each([&](const FlagKey& k, const FlagRow& r) {
      flags.append(k.first, k.second.str(), r.person_id, r.region_code, r.benefit, r.claim_day, r.amount, r.detail);
    });

    // Per-rule totals from the deduplicated flags.
    ResultBatches<FlagKey, FlagRow> flagged(by_claim);
    const auto totals = ctx.engine()
                            .reduce_by_key<RuleName, RuleTotal>(
                                flagged,
                                [](const std::vector<std::pair<FlagKey, FlagRow>>& batch, auto& emit) {
                                  for (const auto& [k, r] : batch) {
                                    RuleTotal t;
                                    t.claims = 1;
                                    t.amount.add(r.amount);
                                    emit(k.second, t);
                                  }
                                },
                                [](RuleTotal a, const RuleTotal& b) {
                                  a.claims += b.claims;
                                  a.amount.add(b.amount);
                                  return a;
                                })
                            .gather(ctx.comm());
    OutputTable summary = ctx.output_table("summary");
    if (ctx.is_root()) {
      for (const auto& rule : evaluated) {  // name order, as the registry sorts them
        RuleTotal t;
        for (const auto& [k, v] : totals) {
          if (k.view() == rule) t = v;
        }
        summary.append(rule, t.claims, t.amount.value());
      }
      ctx.out() << "social.anomalies: " << sorted_count(totals) << " flags\n";
      for (const auto& [k, v] : totals) ctx.out() << "  " << k.view() << ": " << v.claims << " claims\n";
    }
    ctx.write(std::move(flags));
    ctx.write(std::move(summary));
  }

 private:
  static std::int64_t sorted_count(const std::vector<std::pair<RuleName, RuleTotal>>& totals) {
    std::int64_t n = 0;
    for (const auto& t : totals) n += t.second.claims;
    return n;
  }
  AnomalyOptions options_;
};

}  // namespace
PEARL_REGISTER_JOB(Anomalies);
}  // namespace pearl::jobs::social
