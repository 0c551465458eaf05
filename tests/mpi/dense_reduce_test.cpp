// Dense-range reductions (pearl/core/dense_reduce.hpp) on 1–4 simulated ranks in-process
// and on the MPI world under mpirun: the union of the ranks' key ranges, and every rank's
// cells folded into one array whose blocks, in rank order, are the whole result.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "pearl/core/collectives.hpp"
#include "pearl/core/dense_reduce.hpp"
#include "test_world.hpp"

namespace pearl {
namespace {

using pearl::testing::on_every_layout;

TEST(DenseReduce, UnionOfExtentsAndMaximaOverRanks) {
  on_every_layout([](Communicator& comm) {
    const std::int64_t r = comm.rank();
    const std::int64_t size = comm.size();
    DenseExtent mine(2);
    // Every rank but the last sees something; the ranges move with the rank.
    if (r != size - 1 || size == 1) {
      mine.widen(0, 10 - r, 20 + r);
      mine.widen(1, -5 * r, 7);
      mine.widen(1, 3, 7 + r);
    }
    std::int64_t most[] = {r == 0 ? 1 : 0, 100 + r};
    const DenseExtent all = union_extent(comm, mine, most);
    const std::int64_t seen = size == 1 ? 0 : size - 2;  // the highest rank that saw something
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.lo, (std::vector<std::int64_t>{10 - seen, -5 * seen}));
    EXPECT_EQ(all.hi, (std::vector<std::int64_t>{20 + seen, 7 + seen}));
    EXPECT_EQ(most[0], 1);
    EXPECT_EQ(most[1], 100 + size - 1);
    PEARL_AGREE_ON_FAILURE(comm);
    std::int64_t none[] = {0};
    EXPECT_TRUE(union_extent(comm, DenseExtent(3), none).empty()) << "no rank saw anything";
  });
}

// A cell that records its folds: how many rows, their sum, and the first and last rank
// folded into it, so that the test sees the order of the fold, not only its result.
struct Cell {
  std::int64_t count;
  double sum;
  std::int32_t first_rank;
  std::int32_t last_rank;
};
bool empty(const Cell& c) { return c.count == 0; }
Cell fold(const Cell& a, const Cell& b) { return {a.count + b.count, a.sum + b.sum, a.first_rank, b.last_rank}; }

// Rank r's cell i: empty for some (rank, cell) pairs, and cells no rank fills.
Cell cell_of(int r, std::size_t i) {
  if ((i + static_cast<std::size_t>(r)) % 3 == 0 || i % 7 == 5) return {};
  return {static_cast<std::int64_t>(i % 5 + 1), 0.25 * static_cast<double>(i + static_cast<std::size_t>(r)), r, r};
}

TEST(DenseReduce, BlocksFoldedInRankOrderConcatenateToTheWholeArray) {
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{1000}}) {
    on_every_layout([n](Communicator& comm) {
      std::vector<Cell> mine(n);
      for (std::size_t i = 0; i < n; ++i) mine[i] = cell_of(comm.rank(), i);
      const auto block = reduce_dense_cells(comm, std::move(mine), fold, empty);
      // The blocks partition [0, n) in rank order.
      const auto p = static_cast<std::size_t>(comm.size());
      const auto r = static_cast<std::size_t>(comm.rank());
      EXPECT_EQ(block.first, n * r / p);
      EXPECT_EQ(block.cells.size(), n * (r + 1) / p - n * r / p);
      for (std::size_t j = 0; j < block.cells.size(); ++j) {
        const std::size_t i = block.first + j;
        Cell want{};
        for (int src = 0; src < comm.size(); ++src) {
          const Cell c = cell_of(src, i);
          if (!empty(c)) want = empty(want) ? c : fold(want, c);
        }
        const Cell& got = block.cells[j];
        ASSERT_EQ(got.count, want.count) << "cell " << i << " of " << n;
        if (empty(want)) continue;
        EXPECT_EQ(got.sum, want.sum) << "cell " << i;
        EXPECT_EQ(got.first_rank, want.first_rank) << "cell " << i << ": folded in rank order";
        EXPECT_EQ(got.last_rank, want.last_rank) << "cell " << i;
      }
      PEARL_AGREE_ON_FAILURE(comm);
      const std::int64_t cells = allreduce_sum(comm, static_cast<std::int64_t>(block.cells.size()));
      EXPECT_EQ(cells, static_cast<std::int64_t>(n)) << "every cell is on exactly one rank";
    });
  }
}

TEST(DenseReduce, RanksThatDisagreeOnTheLengthAllThrow) {
  on_every_layout([](Communicator& comm) {
    if (comm.size() < 2) return;
    std::vector<Cell> mine(comm.rank() == 1 ? 11 : 10, Cell{1, 1.0, 0, 0});
    try {
      (void)reduce_dense_cells(comm, std::move(mine), fold, empty);
      ADD_FAILURE() << "rank " << comm.rank() << ": no error";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find("ranks disagree on the array's length"), std::string::npos) << e.what();
    }
  });
}

}  // namespace
}  // namespace pearl
