// Rule ui_while_employed: an unemployment-benefit claim (benefit = 2) for a person and
// calendar month in which a contribution record has insurance = 1 (pension) and paid > 0.
// Evaluated only when the `contributions` input is given. detail = 0.
//
// A join on (person, month): one group_by_key over the benefit-2 claims and the qualifying
// contribution records (tagged side 1, carrying nothing else); other rows are dropped in
// the map, before the shuffle.
#include <utility>

#include "rule.hpp"

namespace pearl::jobs::social {
namespace {

class UiWhileEmployed final : public Rule {
 public:
  [[nodiscard]] std::string name() const override { return "ui_while_employed"; }
  [[nodiscard]] bool evaluated(const RuleContext& ctx) const override { return ctx.has_input("contributions"); }

  void run(RuleContext& ctx, FlagSink& flags) override {
    using Key = std::pair<std::uint64_t, std::int32_t>;  // person, month (yyyymm)
    TableInput claims = ctx.input("claims");
    TableInput contributions = ctx.input("contributions");
    TwoSources<TableInput, TableInput> both(&claims, &contributions);
    const auto groups = ctx.engine().group_by_key<Key, ClaimRow>(both, [](const auto& batch, auto& emit) {
      if (batch.side == 0) {
        for_each_claim(*batch.a, [&](const ClaimRow& c) {
          if (c.benefit == 2) emit(Key{c.person_id, month_of_day(c.claim_day)}, c);
        });
        return;
      }
      const auto& b = *batch.b;
      const auto person = b.template column<std::uint64_t>("person_id");
      const auto month = b.template column<std::int32_t>("month");
      const auto insurance = b.template column<std::uint8_t>("insurance");
      const auto paid = b.template column<double>("paid");
      for (std::size_t i = 0; i < b.rows(); ++i) {
        if (insurance[i] != 1 || !(paid[i] > 0)) continue;
        ClaimRow marker;
        marker.person_id = person[i];
        marker.side = 1;
        emit(Key{person[i], month[i]}, marker);
      }
    });
    groups.for_each_group([&](const Key&, std::span<const ClaimRow> rows) {
      bool employed = false;
      for (const auto& r : rows) employed = employed || r.side == 1;
      if (!employed) return;
      for (const auto& r : rows) {
        if (r.side == 0) flags.flag(r, 0.0);
      }
    });
  }
};

}  // namespace
PEARL_SOCIAL_RULE(UiWhileEmployed);
}  // namespace pearl::jobs::social
