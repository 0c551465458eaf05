// social.anomalies' in-memory plan: all four rules from one read of each input table.
//
// Each rank reads its share of `claims` once, in an engine pass whose map threads keep it
// (48 bytes a claim; claims_read.hpp: a checkpoint saves them in the middle of the pass)
// with what the rules need to know about it; only small things travel:
//  - paid_after_death: the earliest death day per person (one reduce over `deaths`) is
//    replicated on every rank, and each rank checks its own claims against it;
//  - concurrent_claims: one reduce over person_id keeps the least and the greatest city
//    (16 bytes a claim); the persons whose two differ — few — are replicated, and the
//    distinct cities of each (person, benefit, month) counted from their claims;
//  - ui_while_employed: the (person, month) keys of the unemployment claims are replicated
//    when they fit, so that the one read of `contributions` keeps only rows that match a
//    claim (a semi-join: almost nothing travels); otherwise both sides meet in a reduce;
//  - amount_outlier: exact median and MAD of each (benefit, city) group over all ranks
//    (pearl/core/quantiles.hpp) from each rank's own sorted amounts, without moving them;
// then one pass over the kept claims flags them for every rule.
//
// Memory: used only when this rank's share of the claims, with the death table, fits a
// quarter of `--memory` (the part the engine's tables, staging and rounds leave); the
// estimate is made from the tables' row counts before anything is read, so every rank
// makes the same choice. Larger inputs take each rule's own dataflow, which spills.
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "claims_read.hpp"
#include "key_lookup.hpp"
#include "pearl/job.hpp"
#include "rule.hpp"

namespace pearl::jobs::social {
namespace {

struct CityRange {
  std::uint32_t least;
  std::uint32_t greatest;
};

// Bytes of a kept claim (with its amount in its group's list), and on every rank of one
// replicated entry: its lookup slots and its gathered pair (and for deaths and claims'
// keys, their 2 bytes in a PersonBits).
constexpr std::size_t kClaimBytes = sizeof(KeptClaim) + sizeof(double);
constexpr std::size_t kDeathEntryBytes = 2 * (1 + sizeof(std::pair<std::uint64_t, std::int32_t>)) + 12 + 2;
constexpr std::size_t kPersonEntryBytes = 2 * (1 + 16) + 16;
constexpr std::size_t kCityEntryBytes = 2 * (1 + 24) + 32;
constexpr std::size_t kKeyEntryBytes = 2 * (1 + sizeof(std::pair<PersonMonth, std::uint8_t>)) + 17 + 2;

/// Collective: every rank's pairs, one per key (folded with `op`), sorted, on every rank —
/// unless they are more than `limit` bytes at `entry` bytes each (then nothing).
template <class K, class V, class Op>
std::optional<std::vector<std::pair<K, V>>> replicate(Engine& engine, const std::vector<std::pair<K, V>>& mine, Op op,
                                                      std::size_t limit, std::size_t entry) {
  VectorSource<std::pair<K, V>> source(mine);
  const auto folded = engine.reduce_by_key<K, V>(source, forward_pairs, op);
  const auto n = static_cast<std::size_t>(allreduce_sum(engine.comm(), static_cast<std::int64_t>(folded.local_size())));
  if (n * entry > limit) return std::nullopt;
  return folded.gather(engine.comm());
}

constexpr auto kKeepFirst = [](auto a, const auto&) { return a; };
constexpr auto kBitsOr = [](std::uint8_t a, std::uint8_t b) { return static_cast<std::uint8_t>(a | b); };

class InMemoryScreen {
 public:
  InMemoryScreen(RuleContext& ctx, FlagSink& flags) : ctx_(ctx), flags_(flags) {}

  std::vector<std::string> run() {
    TableInput deaths = ctx_.input("deaths");
    TableInput claims = ctx_.input("claims");
    const auto ranks = static_cast<std::size_t>(ctx_.comm().size());
    const MemoryLease kept = ctx_.engine().memory().lease_on_every_rank(ctx_.comm(), "anomalies claims kept", {1, 4}, 0);
    const std::size_t share = kept.bytes();
    const std::size_t per_rank = claims.total_rows() / ranks + 1;
    if (per_rank * kClaimBytes + deaths.total_rows() * kDeathEntryBytes > share) return {};

    read_deaths(deaths);
    read_claims(claims, per_rank);
    phase("claims read and kept: " + std::to_string(claims_.size()) + " on rank 0");
    std::vector<std::string> done{"amount_outlier", "paid_after_death"};
    const bool concurrent = find_concurrent(share);
    if (concurrent) done.emplace_back("concurrent_claims");
    phase("concurrent claims found");
    const bool employment = ctx_.has_input("contributions") && find_employed(share);
    if (employment) done.emplace_back("ui_while_employed");
    phase("contributions matched");
    score_groups();
    phase("medians and MADs of " + std::to_string(spread_.size()) + " groups on rank 0");
    flag_all(employment);
    phase("claims flagged");
    return done;
  }

 private:
  void read_deaths(TableInput& deaths) {
    const auto earliest = ctx_.engine().reduce_by_key<std::uint64_t, std::int32_t>(
        deaths,
        [](const TableBatch& b, auto& emit) {
          const auto person = b.column<std::uint64_t>("person_id");
          const auto day = b.column<std::int32_t>("death_day");
          for (std::size_t i = 0; i < b.rows(); ++i) emit(person[i], day[i]);
        },
        [](std::int32_t a, std::int32_t b) { return std::min(a, b); });
    const auto gathered = earliest.gather(ctx_.comm());  // fits: checked in run()
    deaths_ = KeyLookup<std::uint64_t, std::int32_t>(gathered);
    named_ = PersonBits(gathered.size());
    for (const auto& [person, unused] : gathered) named_.add(person);
  }

  /// The one read of `claims`, through the engine (its map waves, threads and meetings,
  /// where a checkpoint can save the pass and a resumed run skip the batches read): kept,
  /// grouped for the outlier rule, unemployment keys noted.
  void read_claims(TableInput& input, std::size_t expected) {
    Engine& engine = ctx_.engine();
    const auto threads = static_cast<std::size_t>(engine.options().threads);
    ClaimsMap map(ctx_.where("claims"), threads == 1 ? expected : expected / threads + expected / 8);
    (void)engine.reduce_by_key<std::uint64_t, std::uint64_t>(input, map, std::plus<>());  // emits nothing
    agreed(ctx_.comm(), [&] {
      KeptClaims kept = join_threads(map.threads());
      claims_ = std::move(kept.claims);
      groups_ = std::move(kept.groups);
      unemployed_ = std::move(kept.unemployed);
    });
  }

  /// concurrent_claims: the (person, benefit, month) keys with two or more cities, and how
  /// many. False when they are too many to replicate (data where most persons claim in
  /// several cities): the rule then runs its own dataflow.
  bool find_concurrent(std::size_t share) {
    // Such a key belongs to a person with claims in two or more cities at all: few persons
    // (people claim where they live), found by one reduce on person_id that keeps the least
    // and greatest city (16-byte pairs, a table of persons rather than of person-months).
    VectorSource<KeptClaim> kept(claims_);
    const auto ranges = ctx_.engine().reduce_by_key<std::uint64_t, CityRange>(
        kept,
        [](std::span<const KeptClaim> batch, auto& emit) {
          for (const auto& k : batch) {
            const std::uint32_t city = city_of(k.row.region_code);
            emit(k.row.person_id, CityRange{city, city});
          }
        },
        [](const CityRange& a, const CityRange& b) {
          return CityRange{std::min(a.least, b.least), std::max(a.greatest, b.greatest)};
        });
    std::vector<std::pair<std::uint64_t, std::uint8_t>> moved;
    ranges.for_each([&](std::uint64_t person, const CityRange& r) {
      if (r.least != r.greatest) moved.emplace_back(person, std::uint8_t{1});
    });
    const auto movers = replicate(ctx_.engine(), moved, kKeepFirst, share / 4, kPersonEntryBytes);
    if (!movers) return too_many("persons claiming in several cities");
    const KeyLookup<std::uint64_t, std::uint8_t> mover(*movers);
    // The distinct (person, benefit, month, city) of their claims, over all ranks, counted.
    using KeyCity = std::tuple<std::uint64_t, std::uint8_t, std::int32_t, std::uint32_t>;
    std::vector<std::pair<KeyCity, std::uint8_t>> cities;
    if (!mover.empty()) {
      for (const auto& k : claims_) {
        if (mover.contains(k.row.person_id)) {
          cities.emplace_back(KeyCity{k.row.person_id, k.row.benefit, k.month, city_of(k.row.region_code)}, std::uint8_t{1});
        }
      }
    }
    const auto distinct = replicate(ctx_.engine(), cities, kKeepFirst, share / 4, kCityEntryBytes);
    if (!distinct) return too_many("claims of persons in several cities");
    std::vector<std::pair<PersonBenefitMonth, std::uint32_t>> counts;
    for (const auto& [kc, unused] : *distinct) {
      const PersonBenefitMonth key{std::get<0>(kc), std::get<1>(kc), std::get<2>(kc)};
      if (counts.empty() || counts.back().first != key) counts.emplace_back(key, 0);
      ++counts.back().second;  // pairs are unique and sorted: one per distinct city
    }
    std::erase_if(counts, [](const auto& c) { return c.second < 2; });
    cities_ = KeyLookup<PersonBenefitMonth, std::uint32_t>(counts);
    for (const auto& [key, unused] : counts) named_.add(std::get<0>(key));
    return true;
  }

  /// A --verbose line: the in-memory plan's phases, for profiling.
  void phase(const std::string& what) const { ctx_.engine().progress("social.anomalies: " + what); }

  bool too_many(const std::string& what) {
    phase("too many " + what + " to replicate");
    return false;
  }

  /// ui_while_employed: the (person, month) keys of unemployment claims with a paid pension
  /// contribution, from the one read of `contributions`. False when they are too many to
  /// replicate: the rule then runs its own dataflow.
  bool find_employed(std::size_t share) {
    TableInput contributions = ctx_.input("contributions");
    const auto keys = static_cast<std::size_t>(
        allreduce_sum(ctx_.comm(), static_cast<std::int64_t>(unemployed_.size())));
    // The claims' keys on every rank when they fit; then a contribution row travels only
    // if it matches a claim. Otherwise both sides travel and meet in the reduce.
    const bool filter = keys * kKeyEntryBytes <= share / 2;
    ctx_.engine().progress(filter ? "social.anomalies: contributions semi-joined with the unemployment claims' keys"
                                  : "social.anomalies: contributions and unemployment claims meet in a reduce");
    KeyLookup<PersonMonth, std::uint8_t> claimed;
    PersonBits claimants;  // the persons of `claimed`: most rows' persons never claimed the benefit
    if (filter) {
      const auto pairs = *replicate(ctx_.engine(), unemployed_, kKeepFirst, share, 0);  // sorted
      claimed = KeyLookup<PersonMonth, std::uint8_t>(pairs);
      std::size_t persons = 0;
      for (std::size_t i = 0; i < pairs.size(); ++i) persons += i == 0 || pairs[i].first.first != pairs[i - 1].first.first;
      claimants = PersonBits(persons);
      for (const auto& [key, unused] : pairs) claimants.add(key.first);
    }
    const auto contribution_keys = [&](const TableBatch& b, auto& emit) {
      const auto person = b.column<std::uint64_t>("person_id");
      const auto month = b.column<std::int32_t>("month");
      const auto insurance = b.column<std::uint8_t>("insurance");
      const auto paid = b.column<double>("paid");
      // The claims' keys are a table far larger than the cache, so a row whose person has
      // no unemployment claim is answered by the bitmap of claimants, and the others' probes
      // are prefetched a block at a time before they are made (KeyLookup::hash).
      constexpr std::size_t kBlock = 256;  // rows: some 50 probes in flight
      std::array<std::pair<PersonMonth, std::uint64_t>, kBlock> probes;
      for (std::size_t from = 0; from < b.rows(); from += kBlock) {
        std::size_t n = 0;
        for (std::size_t i = from; i < std::min(b.rows(), from + kBlock); ++i) {
          if (insurance[i] != 1 || !(paid[i] > 0)) continue;
          const PersonMonth key{person[i], month[i]};
          if (!filter) {
            emit(key, std::uint8_t{2});
            continue;
          }
          if (!claimants.may_contain(key.first)) continue;
          probes[n] = {key, claimed.hash(key)};
          claimed.prefetch(probes[n++].second);
        }
        for (std::size_t p = 0; p < n; ++p) {
          if (claimed.find(probes[p].first, probes[p].second) != nullptr) emit(probes[p].first, std::uint8_t{2});
        }
      }
    };
    std::vector<std::pair<PersonMonth, std::uint8_t>> both;
    const auto keep_both = [&](const PersonMonth& k, std::uint8_t bits) {
      if (bits == 3) both.emplace_back(k, bits);
    };
    if (filter) {
      ctx_.engine().reduce_by_key<PersonMonth, std::uint8_t>(contributions, contribution_keys, kBitsOr)
          .for_each([&](const PersonMonth& k, std::uint8_t) { keep_both(k, 3); });
    } else {
      VectorSource<std::pair<PersonMonth, std::uint8_t>> claimed_keys(unemployed_);
      TwoSources<VectorSource<std::pair<PersonMonth, std::uint8_t>>, TableInput> sides(&claimed_keys, &contributions);
      ctx_.engine()
          .reduce_by_key<PersonMonth, std::uint8_t>(sides,
                                                    [&](const auto& batch, auto& emit) {
                                                      if (batch.side == 0) forward_pairs(*batch.a, emit);
                                                      else contribution_keys(*batch.b, emit);
                                                    },
                                                    kBitsOr)
          .for_each(keep_both);
    }
    std::vector<std::pair<PersonMonth, std::uint8_t>>().swap(unemployed_);
    const auto matched = replicate(ctx_.engine(), both, kKeepFirst, share / 2, kKeyEntryBytes);
    if (!matched) return too_many("unemployment claims with a paid contribution");
    employed_ = KeyLookup<PersonMonth, std::uint8_t>(*matched);
    for (const auto& [key, unused] : *matched) named_.add(key.first);
    return true;
  }

  /// amount_outlier: every group's median and MAD over all ranks, by this rank's group index.
  void score_groups() {
    for (auto& g : groups_) sort_values(g.values);
    const auto all = median_and_mad(ctx_.comm(), groups_);
    for (const auto& g : groups_) {
      const auto it = std::lower_bound(all.begin(), all.end(), g.key, [](const auto& s, const GroupKey& k) { return s.key < k; });
      spread_.push_back(*it);
    }
    std::vector<ValueGroup<GroupKey>>().swap(groups_);
  }

  /// The pass that flags: every kept claim against every rule's findings.
  void flag_all(bool employment) {
    const RuleName outlier("amount_outlier"), concurrent("concurrent_claims"), after_death("paid_after_death"),
        employed("ui_while_employed");
    const std::int64_t grace = ctx_.options().grace_days;
    const double limit = ctx_.options().outlier_z;
    for (const auto& k : claims_) {
      const ClaimRow& c = k.row;
      if (named_.may_contain(c.person_id)) {  // else no rule but the outlier one can flag the claim
        if (const std::int32_t* death = deaths_.find(c.person_id)) {
          if (c.claim_day > *death + grace) flags_.flag(c, static_cast<double>(c.claim_day - *death), after_death);
        }
        if (!cities_.empty()) {
          if (const std::uint32_t* n = cities_.find(PersonBenefitMonth{c.person_id, c.benefit, k.month})) {
            flags_.flag(c, static_cast<double>(*n), concurrent);
          }
        }
        if (employment && c.benefit == 2 && employed_.contains(PersonMonth{c.person_id, k.month})) {
          flags_.flag(c, 0.0, employed);
        }
      }
      const auto& s = spread_[k.group];
      if (s.mad != 0) {
        const double z = 0.6745 * (c.amount - s.median) / s.mad;
        if (std::abs(z) > limit) flags_.flag(c, z, outlier);
      }
    }
  }

  RuleContext& ctx_;
  FlagSink& flags_;
  std::vector<KeptClaim> claims_;
  std::vector<ValueGroup<GroupKey>> groups_;
  std::vector<GroupSpread<GroupKey>> spread_;
  std::vector<std::pair<PersonMonth, std::uint8_t>> unemployed_;
  PersonBits named_;  // the persons of deaths_, cities_ and employed_ (and some others)
  KeyLookup<std::uint64_t, std::int32_t> deaths_;
  KeyLookup<PersonBenefitMonth, std::uint32_t> cities_;
  KeyLookup<PersonMonth, std::uint8_t> employed_;
};

}  // namespace

std::vector<std::string> screen_in_memory(RuleContext& ctx, FlagSink& flags) { return InMemoryScreen(ctx, flags).run(); }

}  // namespace pearl::jobs::social
