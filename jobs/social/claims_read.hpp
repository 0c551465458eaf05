// social.anomalies' in-memory plan, its one read of `claims` as an engine pass: the map
// that keeps every claim (with its month and its (benefit, city) group), each group's
// amounts for the outlier rule and the (person, month) keys of the unemployment claims, one
// copy per map thread, each saving its state with a pass stopped in its middle (a
// checkpoint); and the threads' claims joined after the pass.
//
//   ClaimsMap map(where, expected / threads);
//   (void)engine.reduce_by_key<std::uint64_t, std::uint64_t>(claims, map, std::plus<>());  // emits nothing
//   KeptClaims rank = join_threads(map.threads());
//
// The map hands nothing to the engine: the pass is the engine's for its waves, threads and
// meetings (where a checkpoint saves every copy: save_state, restore_state), and the plan
// works on what the maps kept (screen_in_memory.cpp). So the operation is run again on
// resume if a stop came after its pass (keeps_state_after_finish).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "key_lookup.hpp"
#include "pearl/job.hpp"
#include "rule.hpp"

namespace pearl::jobs::social {

using GroupKey = std::pair<std::uint8_t, std::uint32_t>;                            // benefit, city
using PersonMonth = std::pair<std::uint64_t, std::int32_t>;                        // person, yyyymm
using PersonBenefitMonth = std::tuple<std::uint64_t, std::uint8_t, std::int32_t>;  // person, benefit, yyyymm

/// A claim as kept between the read and the flagging pass.
struct KeptClaim {
  ClaimRow row;
  std::int32_t month;   // yyyymm of claim_day
  std::uint32_t group;  // index of its (benefit, city) group on this rank
};

/// What one map thread (or, joined, one rank) keeps from its batches of `claims`.
struct KeptClaims {
  std::vector<KeptClaim> claims;
  std::vector<ValueGroup<GroupKey>> groups;  // amounts by group, in the order met
  KeyLookup<GroupKey, std::uint32_t> group_index;
  std::vector<std::pair<PersonMonth, std::uint8_t>> unemployed;  // (person, month) of each UI claim, 1

  /// The index of group `g`, which is added when new.
  std::uint32_t group(const GroupKey& g) {
    const std::uint32_t i = group_index.emplace(g, static_cast<std::uint32_t>(groups.size()));
    if (i == groups.size()) groups.push_back({g, {}});
    return i;
  }
};

class ClaimsMap {
 public:
  /// `where`: the input's location, for errors; `reserve`: claims a thread expects.
  ClaimsMap(std::string where, std::size_t reserve)
      : where_(std::move(where)), reserve_(reserve),
        threads_(std::make_shared<std::vector<std::unique_ptr<KeptClaims>>>()) {}
  /// A map thread's copy (the engine makes them in thread order): its own claims, listed in
  /// threads().
  ClaimsMap(const ClaimsMap& o) : where_(o.where_), reserve_(o.reserve_), threads_(o.threads_) {
    threads_->push_back(std::make_unique<KeptClaims>());
    kept_ = threads_->back().get();
    kept_->claims.reserve(reserve_);
  }
  ClaimsMap& operator=(const ClaimsMap&) = delete;
  ~ClaimsMap() = default;

  template <class Emit>
  void operator()(const TableBatch& b, Emit&) {
    KeptClaims& s = *kept_;
    const ClaimColumns columns(b);
    for (std::size_t i = 0; i < b.rows(); ++i) {
      require_finite_amount(where_, b, i, columns.amount[i]);
      KeptClaim k;
      k.row = columns.row(i);
      k.month = month_of_day(k.row.claim_day);
      k.group = s.group({k.row.benefit, city_of(k.row.region_code)});
      s.groups[k.group].values.push_back(k.row.amount);
      if (k.row.benefit == 2) s.unemployed.emplace_back(PersonMonth{k.row.person_id, k.month}, std::uint8_t{1});
      s.claims.push_back(k);
    }
  }

  /// Nothing goes to the engine: the plan takes the threads' claims after the pass.
  template <class Emit>
  void finish(Emit&) {}
  [[nodiscard]] static bool keeps_state_after_finish() noexcept { return true; }

  /// The thread's claims, groups (in the order met, so numbered the same on restore) and
  /// unemployment keys.
  void save_state(pearl::MapStateWriter& w) const {
    const KeptClaims& s = *kept_;
    w.put_bytes(std::as_bytes(std::span<const KeptClaim>(s.claims)));
    w.put<std::uint64_t>(s.groups.size());
    for (const auto& g : s.groups) {
      w.put(g.key.first);
      w.put(g.key.second);
      w.put_bytes(std::as_bytes(std::span<const double>(g.values)));
    }
    w.put<std::uint64_t>(s.unemployed.size());
    for (const auto& [key, unused] : s.unemployed) {
      w.put(key.first);
      w.put(key.second);
    }
  }
  void restore_state(pearl::MapStateReader& r) {
    KeptClaims& s = *kept_;
    get_vector(r, s.claims);
    const auto groups = r.get<std::uint64_t>();
    for (std::uint64_t i = 0; i < groups; ++i) {
      const auto benefit = r.get<std::uint8_t>();
      if (s.group({benefit, r.get<std::uint32_t>()}) != i) r.damaged("social.anomalies' claim groups");
      get_vector(r, s.groups[i].values);
    }
    for (const auto& k : s.claims) {
      if (k.group >= groups) r.damaged("social.anomalies' claims");
    }
    const auto unemployed = r.get<std::uint64_t>();
    s.unemployed.reserve(unemployed);
    for (std::uint64_t i = 0; i < unemployed; ++i) {
      const auto person = r.get<std::uint64_t>();
      s.unemployed.emplace_back(PersonMonth{person, r.get<std::int32_t>()}, std::uint8_t{1});
    }
  }

  /// Every map thread's claims, in thread order.
  [[nodiscard]] std::vector<std::unique_ptr<KeptClaims>>& threads() const noexcept { return *threads_; }

 private:
  template <class T>
  static void get_vector(pearl::MapStateReader& r, std::vector<T>& v) {
    const auto bytes = r.get_bytes();
    if (bytes.size() % sizeof(T) != 0) r.damaged("social.anomalies' kept claims");
    v.resize(bytes.size() / sizeof(T));
    if (!v.empty()) std::memcpy(static_cast<void*>(v.data()), bytes.data(), bytes.size());
  }

  std::string where_;
  std::size_t reserve_;
  std::shared_ptr<std::vector<std::unique_ptr<KeptClaims>>> threads_;
  KeptClaims* kept_ = nullptr;  // a copy's own (null in the prototype)
};

/// This rank's claims from its threads' (which it empties): thread 0's, then every other
/// thread's with its groups numbered after thread 0's and their amounts appended.
inline KeptClaims join_threads(std::vector<std::unique_ptr<KeptClaims>>& threads) {
  KeptClaims rank = std::move(*threads.at(0));
  std::size_t total = rank.claims.size();
  for (std::size_t t = 1; t < threads.size(); ++t) total += threads[t]->claims.size();
  rank.claims.reserve(total);
  for (std::size_t t = 1; t < threads.size(); ++t) {
    KeptClaims& s = *threads[t];
    std::vector<std::uint32_t> to_rank;
    to_rank.reserve(s.groups.size());
    for (auto& g : s.groups) {
      to_rank.push_back(rank.group(g.key));
      auto& into = rank.groups[to_rank.back()].values;
      into.insert(into.end(), g.values.begin(), g.values.end());
    }
    for (KeptClaim k : s.claims) {
      k.group = to_rank[k.group];
      rank.claims.push_back(k);
    }
    rank.unemployed.insert(rank.unemployed.end(), s.unemployed.begin(), s.unemployed.end());
    threads[t].reset();
  }
  return rank;
}

}  // namespace pearl::jobs::social
