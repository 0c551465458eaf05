// social.compliance's in-memory path: one read of `contributions`, cells numbered as met,
// money summed per cell, (cell, person) and (cell, employer) pairs kept distinct in
// hash partitions (pearl/core/distinct.hpp), then one exchange of the pairs to the ranks
// that own their values and one reduce-scatter of the dense cells in key order.
//
// Why: through reduce_by_key every (cell, person) pair is a key of its own (each record of
// a person is usually a cell of its own), so the engine carried ~90 bytes per record
// uncombined through its hash tables and shuffle and spilled (issue 21: 36 s of a 42 s run
// on 28M records). Here a record costs a cell lookup in a small table, a few additions and
// two 12-byte appends; the exchange moves 16 bytes per distinct pair, once.
//
// It holds the distinct pairs in memory; when they outgrow the tables' share of --memory on
// any rank, every rank says so and the job takes the engine's spilling path instead.
#include <cstdint>
#include <optional>
#include <vector>

#include "compliance_cells.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/dense_reduce.hpp"
#include "pearl/core/distinct.hpp"
#include "pearl/core/job.hpp"
#include "pearl/core/memory.hpp"

namespace pearl::jobs::social::compliance {

bool cells_in_memory(JobContext& ctx, const CellKeyer& keyer, ComplianceOutput& out) {
  Engine& engine = ctx.engine();
  Communicator& comm = ctx.comm();
  const std::size_t limit = engine.options().memory.tables();
  GroupIndex<CellKey> cells;
  std::vector<Money> money;  // by this rank's cell number
  DistinctPairs persons;
  DistinctPairs employers;
  std::int64_t flags[] = {0};  // too big for memory on some rank: reduced with max

  std::exception_ptr failure;
  try {
    TableInput rows = ctx.input("contributions");
    std::vector<CellKey> keys;
    std::vector<std::uint32_t> ids;
    while (auto batch = rows.next()) {
      const ContributionColumns c(*batch);
      keyer.keys(c, keys);
      ids.resize(c.rows);
      for (std::size_t i = 0; i < c.rows; ++i) ids[i] = cells.id(keys[i]);
      if (money.size() < cells.size()) money.resize(cells.size());
      for (std::size_t i = 0; i < c.rows; ++i) money[ids[i]].add(c.due[i], c.paid[i]);
      persons.add(ids, c.person);
      employers.add(ids, c.employer);
      rows.recycle(std::move(*batch));
      if (persons.bytes() + employers.bytes() + cells.bytes() + money.capacity() * sizeof(Money) > limit) {
        flags[0] = 1;  // stop reading: every rank takes the engine's path
        break;
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  agree_on_failure(comm, failure, flags);
  if (flags[0] != 0) {
    engine.progress("compliance: distinct pairs exceed " + format_bytes(limit) + " on a rank: engine path");
    return false;
  }
  engine.progress("compliance: read; " + std::to_string(cells.size()) + " cells, " + std::to_string(persons.size()) +
                  " person and " + std::to_string(employers.size()) + " employer pairs held (rank 0, " +
                  format_bytes(persons.bytes() + employers.bytes()) + ")");

  const auto groups = unify_groups(comm, cells.keys());
  const std::size_t n = groups.keys.size();
  const std::size_t round = engine.options().memory.round();
  DistinctStats p, e;
  const auto person_counts = count_distinct(comm, std::move(persons), groups.to_global, n, round, &p);
  const auto employer_counts = count_distinct(comm, std::move(employers), groups.to_global, n, round, &e);
  engine.progress("compliance: distinct persons and employers counted over " + std::to_string(n) + " cells (rank 0 sent " +
                  std::to_string(p.values_sent + e.values_sent) + " values and " + std::to_string(p.pairs_sent + e.pairs_sent) +
                  " pairs)");

  std::vector<Cell> dense(n);
  for (std::size_t g = 0; g < n; ++g) dense[g] = Cell{person_counts[g], employer_counts[g], Money{}};
  for (std::size_t i = 0; i < money.size(); ++i) dense[groups.to_global[i]].money = money[i];
  const auto block = reduce_dense_cells(
      comm, std::move(dense), [](const Cell& a, const Cell& b) { return fold(a, b); },
      [](const Cell&) { return false; });  // a zero cell folds as nothing: no need to skip
  agreed(comm, [&] {
    for (std::size_t j = 0; j < block.cells.size(); ++j) out.add(groups.keys[block.first + j], block.cells[j]);
  });
  return true;
}

}  // namespace pearl::jobs::social::compliance
