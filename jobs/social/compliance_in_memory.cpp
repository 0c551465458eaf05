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
// It holds the distinct pairs in memory. When they outgrow the tables' share of --memory on
// some rank, the first read goes on for the cells and the money alone, and the pairs are
// counted in a few more reads, each keeping one range of value partitions (the counts of
// disjoint ranges add up); when that would take more than kMaxPasses reads, every rank
// takes the engine's spilling path instead.
#include <cstdint>
#include <optional>
#include <vector>

#include "compliance_cells.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::social::compliance {

namespace {

/// What one read of `contributions` collects on a rank.
struct Pass {
  Pass(GroupIndex<CellKey>& c, std::vector<Money>* m) : cells(c), money(m) {}
  GroupIndex<CellKey>& cells;
  std::vector<Money>* money;  // summed in the first pass only (null in later ones)
  DistinctPairs persons;
  DistinctPairs employers;
  std::size_t rows = 0;          // rows read
  std::size_t rows_at_full = 0;  // rows read when the pairs outgrew the limit (0: never)
  std::size_t bytes_at_full = 0;

  [[nodiscard]] std::size_t bytes() const noexcept {
    return persons.bytes() + employers.bytes() + cells.bytes() + (money ? money->capacity() * sizeof(Money) : 0);
  }

  /// Reads every row; keeps the pairs of partitions [first, last). Past `limit` bytes it
  /// drops the pairs and reads on for the cells and money alone (the first pass) or stops.
  void read(JobContext& ctx, const CellKeyer& keyer, std::size_t first, std::size_t last, std::size_t limit) {
    persons.keep_partitions(first, last);
    employers.keep_partitions(first, last);
    TableInput input = ctx.input("contributions");
    std::vector<CellKey> keys;
    std::vector<std::uint32_t> ids;
    while (auto batch = input.next()) {
      const ContributionColumns c(*batch);
      keyer.keys(c, keys);
      ids.resize(c.rows);
      for (std::size_t i = 0; i < c.rows; ++i) ids[i] = cells.id(keys[i]);
      if (money != nullptr) {
        if (money->size() < cells.size()) money->resize(cells.size());
        for (std::size_t i = 0; i < c.rows; ++i) (*money)[ids[i]].add(c.due[i], c.paid[i]);
      }
      rows += c.rows;
      if (rows_at_full == 0) {
        persons.add(ids, c.person);
        employers.add(ids, c.employer);
        if (bytes() > limit) {
          rows_at_full = rows;
          bytes_at_full = bytes();
          persons = DistinctPairs();
          employers = DistinctPairs();
          if (money == nullptr) break;
        }
      }
      input.recycle(std::move(*batch));
    }
  }
};

/// Most reads of the input before the engine's path pays better (one read of the
/// in-memory path costs about a tenth of the engine's path on the social data).
constexpr std::int64_t kMaxPasses = 8;

}  // namespace

bool cells_in_memory(JobContext& ctx, const CellKeyer& keyer, ComplianceOutput& out) {
  Engine& engine = ctx.engine();
  Communicator& comm = ctx.comm();
  const std::size_t limit = engine.options().memory.tables();
  const std::size_t round = engine.options().memory.round();
  GroupIndex<CellKey> cells;
  std::vector<Money> money;  // by this rank's cell number

  // The first read takes every row for the cells and the money, and every pair while they
  // fit. Passes needed (max over ranks): 1 if they fit, else the pairs' projected bytes
  // over the limit (with a margin), each pass keeping one range of value partitions.
  Pass first(cells, &money);
  std::int64_t passes[] = {1};
  agreed(comm, [&] {
    first.read(ctx, keyer, 0, first.persons.partitions(), limit);
    if (first.rows_at_full != 0) {
      const double projected = static_cast<double>(first.bytes_at_full) * static_cast<double>(first.rows) /
                               static_cast<double>(first.rows_at_full);
      passes[0] = static_cast<std::int64_t>(projected / (0.7 * static_cast<double>(limit))) + 1;
    }
  });
  agree_on_failure(comm, nullptr, passes);
  if (passes[0] > kMaxPasses) {
    engine.progress("compliance: distinct pairs would take " + std::to_string(passes[0]) + " reads within " +
                    format_bytes(limit) + ": engine path");
    return false;
  }
  const auto groups = unify_groups(comm, cells.keys());
  const std::size_t n = groups.keys.size();
  std::vector<Cell> dense(n);
  for (std::size_t i = 0; i < money.size(); ++i) dense[groups.to_global[i]].money = money[i];
  std::vector<Money>().swap(money);

  DistinctStats moved;
  const auto count = [&](Pass& pass) {
    DistinctStats p, e;
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
    const std::size_t partitions = first.persons.partitions();
    for (std::size_t pass = 0; pass < k; ++pass) {
      Pass next(cells, nullptr);
      std::int64_t full[] = {0};
      agreed(comm, [&] {
        next.read(ctx, keyer, partitions * pass / k, partitions * (pass + 1) / k, limit);
        full[0] = next.rows_at_full != 0 ? 1 : 0;
      });
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
