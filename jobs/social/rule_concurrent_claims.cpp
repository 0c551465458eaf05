// Rule concurrent_claims: a person has claims of the same benefit in the same calendar
// month (of claim_day) from two or more different cities; every such claim is flagged,
// detail = the number of distinct cities.
//
// One group_by_key on (person, benefit, month); within a group the distinct city-level
// region codes are counted. Memory: one (person, benefit, month) group at a time.
#include <tuple>

#include "rule.hpp"

namespace pearl::jobs::social {
namespace {

class ConcurrentClaims final : public Rule {
 public:
  [[nodiscard]] std::string name() const override { return "concurrent_claims"; }

  void run(RuleContext& ctx, FlagSink& flags) override {
    using Key = std::tuple<std::uint64_t, std::uint8_t, std::int32_t>;  // person, benefit, month
    TableInput claims = ctx.input("claims");
    const auto groups = ctx.engine().group_by_key<Key, ClaimRow>(claims, [](const TableBatch& b, auto& emit) {
      for_each_claim(b, [&](const ClaimRow& c) { emit(Key{c.person_id, c.benefit, month_of_day(c.claim_day)}, c); });
    });
    std::vector<std::uint32_t> cities;
    groups.for_each_group([&](const Key&, std::span<const ClaimRow> rows) {
      if (rows.size() < 2) return;
      cities.clear();
      for (const auto& r : rows) cities.push_back(city_of(r.region_code));
      std::sort(cities.begin(), cities.end());
      const auto n = std::unique(cities.begin(), cities.end()) - cities.begin();
      if (n < 2) return;
      for (const auto& r : rows) flags.flag(r, static_cast<double>(n));
    });
  }
};

}  // namespace
PEARL_SOCIAL_RULE(ConcurrentClaims);
}  // namespace pearl::jobs::social
