// social.compliance's in-memory path, one read of `contributions` as an engine pass: the
// map that numbers cells as met, sums their money and keeps the distinct (cell, person)
// and (cell, employer) pairs, one copy per map thread, each saving its state with a pass
// stopped in its middle (a checkpoint), and the threads' states joined after the pass.
//
//   ReadMap map(keyer, {.first = 0, .last = partitions, .limit = limit, .money = true}, {}, threads);
//   (void)engine.reduce_by_key<std::uint64_t, std::uint64_t>(input, map, std::plus<>());  // emits nothing
//   ReadState rank = join_threads(map.threads());   // this rank's cells, money and pairs
//
// The map hands nothing to the engine: the pass is the engine's for its waves, threads and
// meetings (where a checkpoint saves every thread's copy: save_state, restore_state), and
// the job exchanges what the maps kept itself (compliance_in_memory.cpp). So the operation
// is run again on resume if a stop came after its pass (keeps_state_after_finish).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "compliance_cells.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::social::compliance {

/// What one map thread (or, joined, one rank) collects in one read of `contributions`.
struct ReadState {
  GroupIndex<CellKey> cells;
  std::vector<Money> money;  // by cell number; the first read only
  DistinctPairs persons;
  DistinctPairs employers;
  std::uint64_t rows = 0;           // rows read
  std::uint64_t rows_at_full = 0;   // rows read when the pairs outgrew the limit (0: never)
  std::uint64_t bytes_at_full = 0;  // bytes held then

  [[nodiscard]] std::size_t bytes() const noexcept {
    return persons.bytes() + employers.bytes() + cells.bytes() + money.capacity() * sizeof(Money);
  }
  /// The pairs' bytes had they all been kept: as held, or projected from where they
  /// outgrew the limit.
  [[nodiscard]] double projected_bytes() const noexcept {
    if (rows_at_full == 0) return static_cast<double>(bytes());
    return static_cast<double>(bytes_at_full) * static_cast<double>(rows) / static_cast<double>(rows_at_full);
  }
};

/// Which pairs one read keeps, and how many bytes a thread may hold.
struct ReadPlan {
  std::size_t first = 0;  // value partitions [first, last) kept
  std::size_t last = 0;
  std::size_t limit = 0;  // bytes per map thread
  bool money = false;     // the first read: money summed, every row read even past the limit
};

class ReadMap {
 public:
  /// `known`: the cells numbered by the first read (later reads number them the same way).
  ReadMap(const CellKeyer& keyer, ReadPlan plan, GroupIndex<CellKey> known)
      : keyer_(&keyer), plan_(plan), known_(std::move(known)),
        threads_(std::make_shared<std::vector<std::unique_ptr<ReadState>>>()) {}
  /// A map thread's copy (the engine makes them in thread order): its own state, starting
  /// from the known cells, listed in threads().
  ReadMap(const ReadMap& o) : keyer_(o.keyer_), plan_(o.plan_), threads_(o.threads_) {
    threads_->push_back(std::make_unique<ReadState>());
    state_ = threads_->back().get();
    state_->cells = o.known_;
    state_->persons.keep_partitions(plan_.first, plan_.last);
    state_->employers.keep_partitions(plan_.first, plan_.last);
  }
  ReadMap& operator=(const ReadMap&) = delete;
  ~ReadMap() = default;

  template <class Emit>
  void operator()(const TableBatch& batch, Emit&) {
    ReadState& s = *state_;
    if (!plan_.money && s.rows_at_full != 0) return;  // a later read that outgrew the limit: the caller gives up
    const ContributionColumns c(batch);
    keyer_->keys(c, keys_);
    ids_.resize(c.rows);
    for (std::size_t i = 0; i < c.rows; ++i) ids_[i] = s.cells.id(keys_[i]);
    if (plan_.money) {
      if (s.money.size() < s.cells.size()) s.money.resize(s.cells.size());
      for (std::size_t i = 0; i < c.rows; ++i) s.money[ids_[i]].add(c.due[i], c.paid[i]);
    }
    s.rows += c.rows;
    if (s.rows_at_full == 0) {
      s.persons.add(ids_, c.person);
      s.employers.add(ids_, c.employer);
      if (s.bytes() > plan_.limit) {
        s.rows_at_full = s.rows;
        s.bytes_at_full = s.bytes();
        s.persons = DistinctPairs();
        s.employers = DistinctPairs();
      }
    }
  }

  /// Nothing goes to the engine: the caller takes the threads' states after the pass.
  template <class Emit>
  void finish(Emit&) {}
  [[nodiscard]] static bool keeps_state_after_finish() noexcept { return true; }

  /// The thread's state exactly as it stands (cells in the order numbered, money with
  /// its capacity, the pairs as held), so that a resumed pass goes on as this one would.
  void save_state(pearl::MapStateWriter& w) const {
    const ReadState& s = *state_;
    w.put_bytes(std::as_bytes(std::span<const CellKey>(s.cells.keys())));
    w.put<std::uint64_t>(s.cells.keys().capacity());
    w.put<std::uint64_t>(s.money.capacity());
    w.put_bytes(std::as_bytes(std::span<const Money>(s.money)));
    s.persons.save_state(w);
    s.employers.save_state(w);
    for (const std::uint64_t n : {s.rows, s.rows_at_full, s.bytes_at_full}) w.put(n);
  }
  void restore_state(pearl::MapStateReader& r) {
    ReadState& s = *state_;
    const auto keys = r.get_bytes();
    if (keys.size() % sizeof(CellKey) != 0) r.damaged("social.compliance's cells");
    // Numbered again in the saved order, after the known cells the copy starts from (which
    // lead the saved ones): the same numbers, and the same vector growth.
    for (std::size_t i = 0; i < keys.size() / sizeof(CellKey); ++i) {
      CellKey k;
      std::memcpy(&k, keys.data() + i * sizeof(CellKey), sizeof(CellKey));
      s.cells.id(k);
    }
    if (r.get<std::uint64_t>() != s.cells.keys().capacity()) r.damaged("social.compliance's cells");
    s.money.reserve(r.get<std::uint64_t>());
    const auto money = r.get_bytes();
    if (money.size() % sizeof(Money) != 0 || money.size() / sizeof(Money) > s.cells.size()) {
      r.damaged("social.compliance's money");
    }
    s.money.resize(money.size() / sizeof(Money));
    if (!money.empty()) std::memcpy(static_cast<void*>(s.money.data()), money.data(), money.size());
    s.persons.restore_state(r);
    s.employers.restore_state(r);
    s.rows = r.get<std::uint64_t>();
    s.rows_at_full = r.get<std::uint64_t>();
    s.bytes_at_full = r.get<std::uint64_t>();
  }

  /// Every map thread's state, in thread order.
  [[nodiscard]] std::vector<std::unique_ptr<ReadState>>& threads() const noexcept { return *threads_; }

 private:
  const CellKeyer* keyer_;
  ReadPlan plan_;
  GroupIndex<CellKey> known_;  // the prototype's: what each copy starts from
  std::shared_ptr<std::vector<std::unique_ptr<ReadState>>> threads_;
  ReadState* state_ = nullptr;  // a copy's own (null in the prototype)
  std::vector<CellKey> keys_;   // scratch of one batch
  std::vector<std::uint32_t> ids_;
};

/// This rank's state from its threads' (which it empties): thread 0's, with every other
/// thread's cells numbered after its own, money folded and pairs added. `full` when any
/// thread's pairs outgrew its limit (the pairs are then dropped, the projection summed).
inline ReadState join_threads(std::vector<std::unique_ptr<ReadState>>& threads) {
  ReadState rank = std::move(*threads.at(0));
  double projected = rank.projected_bytes();
  for (std::size_t t = 1; t < threads.size(); ++t) {
    ReadState& s = *threads[t];
    std::vector<std::uint32_t> to_rank;
    to_rank.reserve(s.cells.size());
    for (const CellKey& k : s.cells.keys()) to_rank.push_back(rank.cells.id(k));
    if (!s.money.empty()) {
      if (rank.money.size() < rank.cells.size()) rank.money.resize(rank.cells.size());
      for (std::size_t i = 0; i < s.money.size(); ++i) {
        rank.money[to_rank[i]] = fold(rank.money[to_rank[i]], s.money[i]);
      }
    }
    s.persons.for_each_pair([&](std::uint32_t g, std::uint64_t v) { rank.persons.add(to_rank[g], v); });
    s.employers.for_each_pair([&](std::uint32_t g, std::uint64_t v) { rank.employers.add(to_rank[g], v); });
    projected += s.projected_bytes();
    rank.rows += s.rows;
    if (s.rows_at_full != 0 && rank.rows_at_full == 0) rank.rows_at_full = 1;
    threads[t].reset();
  }
  if (threads.size() > 1 && rank.rows_at_full != 0) {  // the rank's projection: the threads' summed
    rank.bytes_at_full = static_cast<std::uint64_t>(projected);
    rank.rows_at_full = rank.rows;
    rank.persons = DistinctPairs();
    rank.employers = DistinctPairs();
  }
  return rank;
}

}  // namespace pearl::jobs::social::compliance
