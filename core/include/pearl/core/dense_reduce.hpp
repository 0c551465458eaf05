// pearl/core/dense_reduce.hpp — reducing dense arrays over key ranges across ranks.
//
// A job that folds rows into a flat array with one cell per key combination (counts per
// day, per region code, per grid cell: integer keys with small ranges) can reduce those
// arrays across ranks without hashing or sorting a key. The ranks agree on the union of
// their key ranges (`union_extent`), each lays its cells out over that union, and rank r
// receives block r of every rank's array in one all-to-all and folds them in rank order
// (`reduce_dense_cells`, a reduce-scatter). Cells are in key order, so rank r's block
// precedes rank r+1's: the ranks' blocks concatenate into the sorted result, as after
// Engine::sort_globally, and a float fold gives the same sums from run to run at a given
// rank count. Both calls are collective and agree on failure first (agreement.hpp).
//
//   pearl::DenseExtent mine(2);                         // two key columns
//   mine.widen(0, first_day, last_day);                 // what this rank saw
//   mine.widen(1, first_region, last_region);
//   std::int64_t most[] = {groups_here};                // reduced with max alongside
//   const pearl::DenseExtent all = pearl::union_extent(comm, mine, most);
//   std::vector<Cell> cells = lay_out(all);              // the same length on every rank
//   const auto block = pearl::reduce_dense_cells(comm, std::move(cells), fold, is_empty);
//   // block.cells[i] is cell block.first + i of the union, folded over all ranks
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/error.hpp"

namespace pearl {

/// Per key column, the least and the greatest value seen (empty: lo > hi).
struct DenseExtent {
  explicit DenseExtent(std::size_t columns)
      : lo(columns, std::numeric_limits<std::int64_t>::max()), hi(columns, std::numeric_limits<std::int64_t>::min()) {}

  /// Local. Widens column `column` to include [first, last].
  void widen(std::size_t column, std::int64_t first, std::int64_t last) {
    lo.at(column) = std::min(lo.at(column), first);
    hi.at(column) = std::max(hi.at(column), last);
  }
  /// Whether no value was seen (in any column: they are widened together).
  [[nodiscard]] bool empty() const noexcept { return lo.empty() || lo.front() > hi.front(); }
  /// [lo, hi] per column.
  [[nodiscard]] std::vector<std::pair<std::int64_t, std::int64_t>> ranges() const {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    for (std::size_t c = 0; c < lo.size(); ++c) out.emplace_back(lo[c], hi[c]);
    return out;
  }

  std::vector<std::int64_t> lo;
  std::vector<std::int64_t> hi;
};

/// Collective: the union of every rank's extent (every rank passes the same number of
/// columns). Each of `max_values` is replaced by its maximum over ranks in the same round,
/// for the counts or flags a caller needs to decide whether the dense path pays.
inline DenseExtent union_extent(Communicator& comm, DenseExtent mine, std::span<std::int64_t> max_values) {
  agree_on_failure(comm, nullptr);
  std::vector<std::int64_t> most(max_values.begin(), max_values.end());
  most.insert(most.end(), mine.hi.begin(), mine.hi.end());
  comm.allreduce(std::span<std::int64_t>(mine.lo), ReduceOp::min);
  comm.allreduce(std::span<std::int64_t>(most), ReduceOp::max);
  std::copy(most.begin(), most.begin() + static_cast<std::ptrdiff_t>(max_values.size()), max_values.begin());
  std::copy(most.begin() + static_cast<std::ptrdiff_t>(max_values.size()), most.end(), mine.hi.begin());
  return mine;
}

/// This rank's part of a dense reduction: cells [first, first + cells.size()) of the union.
template <class Cell>
struct DenseBlock {
  std::size_t first = 0;
  std::vector<Cell> cells;
};

/// Collective. `cells`: this rank's array over the union, of the same length n on every
/// rank. Rank r of p receives cells [n·r/p, n·(r+1)/p) of every rank and folds them in
/// rank order: cells for which `is_empty(cell)` holds are skipped, the first other one is
/// taken as it is, later ones are folded in with `fold(so_far, next)`. A value-initialised
/// Cell must be empty. At one rank the cells are returned as they are.
template <class Cell, class Fold, class IsEmpty>
DenseBlock<Cell> reduce_dense_cells(Communicator& comm, std::vector<Cell> cells, const Fold& fold,
                                    const IsEmpty& is_empty) {
  static_assert(std::is_trivially_copyable_v<Cell>, "dense cells travel as bytes");
  const auto p = static_cast<std::size_t>(comm.size());
  const auto r = static_cast<std::size_t>(comm.rank());
  const std::size_t n = cells.size();
  DenseBlock<Cell> block;
  block.first = n * r / p;
  const std::size_t mine = n * (r + 1) / p - block.first;
  agree_on_failure(comm, nullptr);
  if (p == 1) {
    block.cells = std::move(cells);
    return block;
  }
  std::vector<std::size_t> send_bytes(p);
  for (std::size_t to = 0; to < p; ++to) send_bytes[to] = (n * (to + 1) / p - n * to / p) * sizeof(Cell);
  std::vector<std::byte> received;
  std::vector<std::size_t> received_bytes;
  comm.alltoallv(std::as_bytes(std::span<const Cell>(cells)), send_bytes, received, received_bytes);
  agreed(comm, [&] {
    std::vector<Cell>().swap(cells);
    block.cells.resize(mine);
    const std::byte* from = received.data();
    for (std::size_t src = 0; src < p; ++src, from += mine * sizeof(Cell)) {
      if (received_bytes[src] != mine * sizeof(Cell)) {
        throw Error("reduce_dense_cells: rank " + std::to_string(src) + " sent " + std::to_string(received_bytes[src]) +
                    " bytes for a block of " + std::to_string(mine) + " cells (ranks disagree on the array's length)");
      }
      for (std::size_t i = 0; i < mine; ++i) {
        Cell v;
        std::memcpy(&v, from + i * sizeof(Cell), sizeof(Cell));
        if (is_empty(v)) continue;
        block.cells[i] = is_empty(block.cells[i]) ? v : fold(block.cells[i], v);
      }
    }
  });
  return block;
}

}  // namespace pearl
