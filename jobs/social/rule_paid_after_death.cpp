// Rule paid_after_death: claim_day > death_day + grace-days; detail = claim_day − death_day.
//
// A join of claims and deaths on person_id: one group_by_key over both tables, values
// tagged by side (1 = a death record, whose day travels in claim_day). A person with several
// death registrations is compared with the earliest (a claim after any registered death
// plus the grace period is also after the earliest). Memory: one person's claims at a time.
#include <limits>

#include "rule.hpp"

namespace pearl::jobs::social {
namespace {

class PaidAfterDeath final : public Rule {
 public:
  [[nodiscard]] std::string name() const override { return "paid_after_death"; }

  void run(RuleContext& ctx, FlagSink& flags) override {
    TableInput claims = ctx.input("claims");
    TableInput deaths = ctx.input("deaths");
    TwoSources<TableInput, TableInput> both(&claims, &deaths);
    const auto by_person = ctx.engine().group_by_key<std::uint64_t, ClaimRow>(
        both, [](const auto& batch, auto& emit) {
          if (batch.side == 0) {
            for_each_claim(*batch.a, [&](const ClaimRow& c) { emit(c.person_id, c); });
            return;
          }
          const auto person = batch.b->template column<std::uint64_t>("person_id");
          const auto day = batch.b->template column<std::int32_t>("death_day");
          for (std::size_t i = 0; i < batch.b->rows(); ++i) {
            ClaimRow d;
            d.person_id = person[i];
            d.claim_day = day[i];
            d.side = 1;
            emit(person[i], d);
          }
        });
    const std::int64_t grace = ctx.options().grace_days;
    by_person.for_each_group([&](std::uint64_t, std::span<const ClaimRow> rows) {
      std::int64_t death = std::numeric_limits<std::int64_t>::max();
      for (const auto& r : rows) {
        if (r.side == 1) death = std::min<std::int64_t>(death, r.claim_day);
      }
      if (death == std::numeric_limits<std::int64_t>::max()) return;
      for (const auto& r : rows) {
        if (r.side == 0 && r.claim_day > death + grace) flags.flag(r, static_cast<double>(r.claim_day - death));
      }
    });
  }
};

}  // namespace
PEARL_SOCIAL_RULE(PaidAfterDeath);
}  // namespace pearl::jobs::social
