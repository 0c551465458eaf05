// Rule amount_outlier: within each (benefit, city) group, robust z = 0.6745·(amount − median)
// / MAD with MAD = median(|amount − median|) (an even count's median is the mean of the two
// middle values); flagged when |z| > --outlier-z; groups with MAD = 0 are skipped.
// detail = z.
//
// Exact medians, in two passes so that claims themselves never travel:
//  1. group_by_key on (benefit, city) with sorted values, shuffling only the amounts (8
//     bytes each); per group the median and, from the same sorted array, the MAD by merging
//     the deviations below and above the median (no copy). A group's amounts are held in
//     memory one group at a time: 8 bytes per claim (a million-claim group is 8 MB).
//  2. The per-group statistics (a few per benefit and city) are gathered on every rank and
//     each rank scores its own claims locally.
#include <cmath>
#include <map>
#include <utility>

#include "rule.hpp"

namespace pearl::jobs::social {
namespace {

using GroupKey = std::pair<std::uint8_t, std::uint32_t>;  // benefit, city

struct Stats {
  double median;
  double mad;
};

/// Median of a sorted, non-empty sequence given by its k-th element accessor.
template <class At>
double median_of(std::size_t n, At at) {
  return n % 2 == 1 ? at(n / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
}

/// MAD of sorted `a` around `m`: the deviations m − a[i] for a[i] < m grow as i falls, and
/// a[j] − m for a[j] ≥ m grow as j rises; merging the two runs yields them in order.
double mad_of(std::span<const double> a, double m) {
  const std::size_t n = a.size();
  std::size_t hi = static_cast<std::size_t>(std::lower_bound(a.begin(), a.end(), m) - a.begin());
  std::size_t lo = hi;  // next below-median element is a[lo - 1]
  const std::size_t want_last = n / 2;  // index of the upper middle deviation
  double prev = 0, cur = 0;
  for (std::size_t k = 0; k <= want_last; ++k) {
    double d;
    if (lo == 0) d = a[hi++] - m;
    else if (hi == n) d = m - a[--lo];
    else if (m - a[lo - 1] <= a[hi] - m) d = m - a[--lo];
    else d = a[hi++] - m;
    prev = cur;
    cur = d;
  }
  return n % 2 == 1 ? cur : (prev + cur) / 2;
}

class AmountOutlier final : public Rule {
 public:
  [[nodiscard]] std::string name() const override { return "amount_outlier"; }

  void run(RuleContext& ctx, FlagSink& flags) override {
    const std::string where = ctx.where("claims");
    TableInput amounts = ctx.input("claims");
    const auto groups = ctx.engine().group_by_key<GroupKey, double>(
        amounts,
        [&](const TableBatch& b, auto& emit) {
          const ClaimColumns c(b);
          for (std::size_t i = 0; i < b.rows(); ++i) {
            require_finite_amount(where, b, i, c.amount[i]);
            emit(GroupKey{c.benefit[i], city_of(c.region[i])}, c.amount[i]);
          }
        },
        GroupOptions{.sort_values = true});

    std::vector<std::pair<GroupKey, Stats>> mine;
    groups.for_each_group([&](const GroupKey& key, std::span<const double> a) {
      const double m = median_of(a.size(), [&](std::size_t i) { return a[i]; });
      mine.emplace_back(key, Stats{m, mad_of(a, m)});
    });
    // Small: one entry per (benefit, city), on every rank, sorted (lookups are binary
    // searches). Keys are unique, so the fold never runs.
    VectorSource<std::pair<GroupKey, Stats>> source(mine);
    const auto stats = ctx.engine()
                           .reduce_by_key<GroupKey, Stats>(
                               source,
                               [](std::span<const std::pair<GroupKey, Stats>> batch, auto& emit) {
                                 for (const auto& [k, s] : batch) emit(k, s);
                               },
                               [](const Stats& a, const Stats&) { return a; })
                           .gather(ctx.comm());
    const auto find = [&](const GroupKey& k) -> const Stats* {
      const auto it = std::lower_bound(stats.begin(), stats.end(), k,
                                       [](const auto& e, const GroupKey& x) { return e.first < x; });
      return it != stats.end() && it->first == k ? &it->second : nullptr;
    };

    const double limit = ctx.options().outlier_z;
    TableInput claims = ctx.input("claims");
    while (auto b = claims.next()) {
      for_each_claim(*b, [&](const ClaimRow& c) {
        const Stats* s = find(GroupKey{c.benefit, city_of(c.region_code)});
        if (s == nullptr || s->mad == 0) return;
        const double z = 0.6745 * (c.amount - s->median) / s->mad;
        if (std::abs(z) > limit) flags.flag(c, z);
      });
    }
  }
};

}  // namespace
PEARL_SOCIAL_RULE(AmountOutlier);
}  // namespace pearl::jobs::social
