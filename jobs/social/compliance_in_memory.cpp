// social.compliance's in-memory path: one read of `contributions` (an engine pass whose
// map threads keep what it collects, saved with the pass at a checkpoint: compliance_read.hpp),
// cells numbered as met, money summed per cell, (cell, person) and (cell, employer) pairs
// kept distinct in hash partitions (pearl/core/distinct.hpp), then one exchange of the pairs
// to the ranks that own their values and one reduce-scatter of the dense cells in key order.
//
// Why: through reduce_by_key every (cell, person) pair is a key of its own (each record of
// a person is usually a cell of its own), so the engine carried ~90 bytes per record
// uncombined through its hash tables and shuffle and spilled (issue 21: 36 s of a 42 s run
// on 28M records). Here a record costs a cell lookup in a small table, a few additions and
// two 12-byte appends; the exchange moves 16 bytes per distinct pair, once.
//
// It holds the distinct pairs in memory. When they outgrow the tables' share of --memory on
// some rank, the first read goes on for the cells and the money alone, and the pairs are
// counted in a few more reads, each keeping one range of value partitions (the counts of
// disjoint ranges add up); when that would take more than kMaxPasses reads, every rank
// takes the engine's spilling path instead.
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "compliance_cells.hpp"
#include "compliance_read.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::social::compliance {

namespace {

/// Collective: one read of `contributions` through the engine (its map waves, threads
/// and meetings, where a checkpoint can save the pass and a resumed run skip the batches
/// read), keeping the pairs of value partitions [first, last); this rank's state.
ReadState read(JobContext& ctx, const CellKeyer& keyer, ReadPlan plan, const GroupIndex<CellKey>& known) {
  Engine& engine = ctx.engine();
  plan.limit /= static_cast<std::size_t>(engine.options().threads);
  ReadMap map(keyer, plan, known);
  TableInput input = ctx.input("contributions");
  (void)engine.reduce_by_key<std::uint64_t, std::uint64_t>(input, map, std::plus<>());  // emits nothing
  std::optional<ReadState> rank;
  agreed(ctx.comm(), [&] { rank.emplace(join_threads(map.threads())); });
  return std::move(*rank);
}

/// Most reads of the input before the engine's path pays better (one read of the
/// in-memory path costs about a tenth of the engine's path on the social data).
constexpr std::int64_t kMaxPasses = 8;

}  // namespace

bool cells_in_memory(JobContext& ctx, const CellKeyer& keyer, ComplianceOutput& out) {
  Engine& engine = ctx.engine();
  Communicator& comm = ctx.comm();
  const MemoryLease pairs = ctx.memory().lease_on_every_rank(comm, "compliance distinct pairs", MemoryShare::job_alone, 0);
  const std::size_t limit = pairs.bytes();

  // The first read takes every row for the cells and the money, and every pair while they
  // fit. Passes needed (max over ranks): 1 if they fit, else the pairs' projected bytes
  // over the limit (with a margin), each pass keeping one range of value partitions.
  const std::size_t partitions = DistinctPairs().partitions();
  ReadState first = read(ctx, keyer, {.first = 0, .last = partitions, .limit = limit, .money = true}, {});
  std::int64_t passes[] = {1};
  if (first.rows_at_full != 0) {
    passes[0] = static_cast<std::int64_t>(first.projected_bytes() / (0.7 * static_cast<double>(limit))) + 1;
  }
  agree_on_failure(comm, nullptr, passes);
  if (passes[0] > kMaxPasses) {
    engine.progress("compliance: distinct pairs would take " + std::to_string(passes[0]) + " reads within " +
                    format_bytes(limit) + ": engine path");
    return false;
  }
  const auto groups = unify_groups(comm, first.cells.keys());
  const std::size_t n = groups.keys.size();
  std::vector<Cell> dense(n);
  for (std::size_t i = 0; i < first.money.size(); ++i) dense[groups.to_global[i]].money = first.money[i];
  std::vector<Money>().swap(first.money);

  DistinctStats moved;
  const auto count = [&](ReadState& pass) {
    DistinctStats p, e;
    const std::size_t round = ctx.memory().share(MemoryShare::shuffle_rounds);  // whole: every rank the same
    const MemoryLease rounds = ctx.memory().lease("compliance pair exchange", round, round);
    const auto persons = count_distinct(comm, std::move(pass.persons), groups.to_global, n, round, &p);
    const auto employers = count_distinct(comm, std::move(pass.employers), groups.to_global, n, round, &e);
    for (std::size_t g = 0; g < n; ++g) {
      dense[g].persons += persons[g];
      dense[g].employers += employers[g];
    }
    moved.values_sent += p.values_sent + e.values_sent;
    moved.pairs_sent += p.pairs_sent + e.pairs_sent;
  };
  const auto k = static_cast<std::size_t>(passes[0]);
  if (k == 1) {
    engine.progress("compliance: read; " + std::to_string(n) + " cells, pairs held (rank 0): " +
                    std::to_string(first.persons.size()) + " person, " + std::to_string(first.employers.size()) +
                    " employer, " + format_bytes(first.bytes()));
    count(first);
  } else {
    engine.progress("compliance: read; " + std::to_string(n) + " cells; pairs past " + format_bytes(limit) +
                    ": counting them in " + std::to_string(k) + " more passes");
    for (std::size_t pass = 0; pass < k; ++pass) {
      const ReadPlan range{.first = partitions * pass / k, .last = partitions * (pass + 1) / k, .limit = limit};
      ReadState next = read(ctx, keyer, range, first.cells);
      std::int64_t full[] = {next.rows_at_full != 0 ? 1 : 0};
      agree_on_failure(comm, nullptr, full);
      if (full[0] != 0) {
        engine.progress("compliance: a pass outgrew " + format_bytes(limit) + ": engine path");
        return false;
      }
      count(next);
    }
  }
  engine.progress("compliance: distinct persons and employers counted (rank 0 sent " +
                  std::to_string(moved.values_sent) + " values and " + std::to_string(moved.pairs_sent) + " pairs)");

  const auto block = reduce_dense_cells(
      comm, std::move(dense), [](const Cell& a, const Cell& b) { return fold(a, b); },
      [](const Cell&) { return false; });  // a zero cell folds as nothing: no need to skip
  agreed(comm, [&] {
    for (std::size_t j = 0; j < block.cells.size(); ++j) out.add(groups.keys[block.first + j], block.cells[j]);
  });
  return true;
}

}  // namespace pearl::jobs::social::compliance
