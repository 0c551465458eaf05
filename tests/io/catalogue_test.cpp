// Input specs, shard catalogues, rank assignment and the table batch source over shards of
// different lengths and layouts (columnar, compound, pandas, one empty).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/catalogue.hpp"
#include "pearl/io/shard_writer.hpp"
#include "pearl/io/table_source.hpp"
#include "test_world.hpp"

namespace pearl::io {
namespace {

using testing::expected;
using testing::fixture;

static_assert(BatchSource<TableSource>);

const std::vector<std::uint64_t> kShardRows{1000, 0, 37, 500, 1, 250};
constexpr std::uint64_t kTotal = 1788;

std::string shard_glob() { return (fixture("shards") / "cases-*.h5").string(); }

Catalogue shards_catalogue() {
  return Catalogue::build(parse_input_spec("cases=" + shard_glob()),
                          {{"case_id", DType::u64}, {"age_years", DType::u8}, {"disease", DType::str}});
}

TEST(InputSpec, ParsesNameGlobAndPath) {
  EXPECT_EQ(parse_input_spec("cases=data/cases-*.h5"), (InputSpec{"cases", "data/cases-*.h5", "/cases"}));
  EXPECT_EQ(parse_input_spec("cases=all.h5:/health/cases"), (InputSpec{"cases", "all.h5", "/health/cases"}));
  EXPECT_EQ(parse_input_spec("taps=x:y/t-*.h5"), (InputSpec{"taps", "x:y/t-*.h5", "/taps"}));  // ':' not before '/'
  EXPECT_EQ(parse_input_spec("taps=a:b.h5:/t"), (InputSpec{"taps", "a:b.h5", "/t"}));          // the last ':' splits
  EXPECT_EQ(parse_input_spec("labour_force=lf.h5"), (InputSpec{"labour_force", "lf.h5", "/labour_force"}));
  for (const char* bad : {"cases", "=x.h5", "cases=", "ca-ses=x.h5", "cases=:/cases"}) {
    EXPECT_THROW(parse_input_spec(bad), InputError) << bad;
  }
}

TEST(Catalogue, GlobsSortAndMissingFilesAreNamed) {
  const auto files = expand_glob(shard_glob());
  ASSERT_EQ(files.size(), kShardRows.size());  // README is not matched
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
  EXPECT_EQ(files.front().filename(), "cases-00.h5");
  try {
    (void)Catalogue::build(parse_input_spec("cases=" + (fixture("shards") / "nope-*.h5").string()), {});
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("input 'cases': no files match"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nope-*.h5"), std::string::npos) << e.what();
  }
  try {
    (void)expand_glob(fixture("absent.h5").string());
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("absent.h5: no such file"), std::string::npos) << e.what();
  }
}

TEST(Catalogue, CountsEveryShardAndValidatesBeforeWork) {
  const Catalogue cat = shards_catalogue();
  EXPECT_EQ(cat.name(), "cases");
  EXPECT_EQ(cat.path(), "/cases");
  EXPECT_EQ(cat.total_rows(), kTotal);
  ASSERT_EQ(cat.shards().size(), kShardRows.size());
  std::uint64_t first = 0;
  for (std::size_t i = 0; i < kShardRows.size(); ++i) {
    EXPECT_EQ(cat.shards()[i].rows, kShardRows[i]);
    EXPECT_EQ(cat.shards()[i].first_row, first);
    first += kShardRows[i];
  }
  // A required column missing from the shards: an InputError naming the first shard.
  try {
    (void)Catalogue::build(parse_input_spec("cases=" + shard_glob()), {{"nope", DType::u8}});
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cases-00.h5: table /cases: no column 'nope'"), std::string::npos) << e.what();
  }
  // A bad file among the shards, and a table path that is not there.
  EXPECT_THROW((void)Catalogue::build(parse_input_spec("cases=" + (fixture("") / "*_hdf5.h5").string()), {}),
               InputError);
  EXPECT_THROW((void)Catalogue::build(parse_input_spec("cases=" + shard_glob() + ":/other"), {}), InputError);
}

TEST(Catalogue, RanksCoverEveryRowExactlyOnceWithBalancedShares) {
  const Catalogue cat = shards_catalogue();
  for (int ranks = 1; ranks <= 5; ++ranks) {
    SCOPED_TRACE("ranks " + std::to_string(ranks));
    std::vector<int> seen(kTotal, 0);
    std::uint64_t smallest = kTotal;
    std::uint64_t largest = 0;
    for (int r = 0; r < ranks; ++r) {
      std::uint64_t rows = 0;
      std::uint64_t next_global = share_of(kTotal, r, ranks).begin;
      for (const Piece& p : cat.pieces_for(r, ranks)) {
        ASSERT_LT(p.begin, p.end);  // no empty pieces
        ASSERT_LE(p.end, cat.shards()[p.shard].rows);
        EXPECT_EQ(p.global_begin, cat.shards()[p.shard].first_row + p.begin);
        EXPECT_EQ(p.global_begin, next_global);  // contiguous
        next_global += p.rows();
        for (std::uint64_t g = p.global_begin; g < p.global_begin + p.rows(); ++g) ++seen[g];
        rows += p.rows();
      }
      smallest = std::min(smallest, rows);
      largest = std::max(largest, rows);
    }
    EXPECT_LE(largest - smallest, 1U);
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  }
  // A range across the empty shard: pieces of shard 0 and shard 2, nothing of shard 1.
  const auto pieces = cat.pieces({990, 1010});
  ASSERT_EQ(pieces.size(), 2U);
  EXPECT_EQ(pieces[0], (Piece{0, 990, 1000, 990}));
  EXPECT_EQ(pieces[1], (Piece{2, 0, 10, 1000}));
}

TEST(Catalogue, SerialisesForABroadcast) {
  const Catalogue cat = shards_catalogue();
  const auto bytes = cat.serialise();
  EXPECT_EQ(Catalogue::deserialise(bytes), cat);
  const std::vector<Catalogue> two{cat, Catalogue({"deaths", "d.h5", "/deaths"}, {{"d.h5", 7, 0}})};
  const auto all = deserialise_catalogues(serialise(two));
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[1].total_rows(), 7U);
  EXPECT_EQ(all, two);
  std::vector<std::byte> cut(bytes.begin(), bytes.end() - 3);
  EXPECT_THROW((void)Catalogue::deserialise(cut), Error);
  EXPECT_THROW((void)Catalogue::deserialise(std::vector<std::byte>(16, std::byte{7})), Error);
}

TEST(TableSource, EveryRankReadsItsRowsInChunkAlignedBatches) {
  const Catalogue cat = shards_catalogue();
  const std::vector<ColumnSpec> cols{{"case_id", DType::u64}, {"age_years", DType::u8}, {"disease", DType::str}};
  for (int ranks = 1; ranks <= 5; ++ranks) {
    SCOPED_TRACE("ranks " + std::to_string(ranks));
    std::vector<int> seen(kTotal, 0);
    for (int r = 0; r < ranks; ++r) {
      TableSource source(cat, cols, r, ranks, 100);
      std::uint64_t rows = 0;
      while (auto batch = source.next()) {
        ASSERT_GT(batch->rows(), 0U);
        ASSERT_LE(batch->rows(), 100U);
        EXPECT_EQ(batch->table(), "cases");
        const auto id = batch->column<std::uint64_t>("case_id");  // case_id is the global row number
        for (std::size_t i = 0; i < batch->rows(); ++i) {
          ASSERT_EQ(id[i], batch->first_row() + i);
          ++seen[id[i]];
        }
        EXPECT_EQ(batch->column<std::string>("disease").size(), batch->rows());
        // Shard 0 is chunked by 64 rows: batches of 100 become 64, ending on chunk edges.
        const std::uint64_t end = batch->first_row() + batch->rows();
        if (end <= 1000) {
          EXPECT_LE(batch->rows(), 64U);
          if (end != source.pieces().front().global_begin + source.pieces().front().rows()) {
            EXPECT_EQ(end % 64, 0U);
          }
        }
        rows += batch->rows();
      }
      EXPECT_EQ(rows, share_of(kTotal, r, ranks).size());
      EXPECT_EQ(rows, source.rows());
      EXPECT_FALSE(source.next().has_value());
    }
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  }
}

TEST(TableSource, ValuesMatchWhatPythonWroteAcrossLayouts) {
  const Catalogue cat = shards_catalogue();
  TableSource source(cat, {{"case_id", DType::u64}}, 0, 1, 333);
  std::vector<std::string> want;
  for (int i = 0; i < 6; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "%02d", i);
    for (auto& v : expected(std::string("shards/") + name, "case_id")) want.push_back(v);
  }
  ASSERT_EQ(want.size(), kTotal);
  while (auto b = source.next()) testing::expect_values(b->data(0), want, b->first_row(), "case_id");
}

TEST(TableSource, RecycledBatchesAreReadIntoTheSameMemory) {
  // Batches handed back are read into again: same values as fresh batches (three layouts,
  // a converted width, strings), and a numeric column of a batch the size of the last
  // lands in the last one's memory.
  const Catalogue cat = shards_catalogue();
  const std::vector<ColumnSpec> cols{{"case_id", DType::u64}, {"age_years", DType::u8}, {"disease", DType::str}};
  std::vector<TableBatch> fresh;
  {
    TableSource source(cat, cols, 0, 1, 64);
    while (auto b = source.next()) fresh.push_back(std::move(*b));
  }
  TableSource source(cat, cols, 0, 1, 64);
  std::size_t i = 0, reused = 0;
  const void* last = nullptr;
  std::size_t last_rows = 0;
  while (auto b = source.next()) {
    ASSERT_LT(i, fresh.size());
    const TableBatch& want = fresh[i++];
    ASSERT_EQ(b->first_row(), want.first_row());
    ASSERT_EQ(b->rows(), want.rows());
    for (std::size_t c = 0; c < cols.size(); ++c) EXPECT_EQ(b->data(c), want.data(c)) << cols[c].name;
    const void* here = b->column<std::uint64_t>("case_id").data();
    if (b->rows() == last_rows) {
      EXPECT_EQ(here, last);
      reused += here == last ? 1 : 0;
    }
    last = here;
    last_rows = b->rows();
    source.recycle(std::move(*b));
  }
  EXPECT_EQ(i, fresh.size());
  EXPECT_GT(reused, 10U);
}

TEST(TableSource, FeedsTheEngine) {
  // Counts cases per sex through reduce_by_key: the source is a BatchSource the engine drives.
  const Catalogue cat = shards_catalogue();
  Communicator& comm = pearl::testing::world();
  Engine engine(comm, {});
  TableSource source(cat, {{"sex", DType::u8}}, comm, 128);
  auto counts = engine.reduce_by_key<std::uint8_t, std::int64_t>(
      source,
      [](const TableBatch& b, auto& emit) {
        const auto sex = b.column<std::uint8_t>("sex");
        for (std::size_t i = 0; i < b.rows(); ++i) emit(sex[i], std::int64_t{1});
      },
      std::plus<>{});
  std::int64_t total = 0;
  for (const auto& [sex, n] : counts.gather(comm)) {
    EXPECT_TRUE(sex == 1 || sex == 2);
    total += n;
  }
  if (comm.rank() == 0) {
    EXPECT_EQ(total, static_cast<std::int64_t>(kTotal));
  }
}

TEST(TableSource, BatchRowsFromAMemoryBudget) {
  EXPECT_EQ(TableSource::rows_for_budget({{"a", DType::u64}, {"b", DType::u32}}, 12 << 20), std::uint64_t{1} << 20);
  EXPECT_EQ(TableSource::rows_for_budget({{"a", DType::u8}}, 10), 1024U);
}

// What a map thread gets: the runner turns its share of --memory into batch_rows with
// rows_for_budget (cluster/src/shard_inputs.cpp), and the source then reads batches of at
// most that many rows, of a few MiB whatever the budget (so that a batch is still in cache
// when the map reads it), on chunk boundaries when the data is chunked.
TEST(TableSource, BatchesFromAMemoryBudgetAsTheRunnerAsks) {
  const std::vector<ColumnSpec> cols{{"id", DType::u64}};
  constexpr std::uint64_t kRows = 1'000'000;  // 8 MB: several cache-sized batches
  constexpr std::uint64_t kChunk = 10'000;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("pearl-batch-test-" + std::to_string(::getpid()) + "-" + std::to_string(pearl::testing::world().rank()));
  std::filesystem::create_directories(dir);
  OutputTable table("t", cols);
  auto& ids = table.column<std::uint64_t>(0);
  for (std::uint64_t i = 0; i < kRows; ++i) ids.push_back(i);
  ShardFileWriter writer;
  writer.write(dir / "contiguous.h5", {table}, {});
  ShardOptions chunks;
  chunks.chunk_rows = kChunk;
  writer.write(dir / "chunked.h5", {table}, chunks);
  for (const char* file : {"contiguous.h5", "chunked.h5"}) {
    const bool chunked = std::string(file) == "chunked.h5";
    const Catalogue cat = Catalogue::build(parse_input_spec(std::string("t=") + (dir / file).string()), cols);
    for (const std::size_t budget : {std::size_t{128} << 20, std::size_t{64} << 10}) {
      SCOPED_TRACE(std::string(file) + ", budget " + std::to_string(budget));
      const std::uint64_t batch_rows = TableSource::rows_for_budget(cols, budget);
      TableSource source(cat, cols, 0, 1, batch_rows);
      std::uint64_t next_row = 0, batches = 0, largest = 0;
      while (auto b = source.next()) {
        EXPECT_EQ(b->first_row(), next_row);
        EXPECT_EQ(b->column<std::uint64_t>("id")[0], next_row);
        EXPECT_LE(b->rows(), batch_rows) << "a batch never exceeds the rows the budget allows";
        if (chunked && b->rows() >= kChunk) {
          EXPECT_EQ(b->first_row() % kChunk, 0U) << "batches start on chunk boundaries";
        }
        largest = std::max<std::uint64_t>(largest, b->rows());
        next_row += b->rows();
        ++batches;
      }
      EXPECT_EQ(next_row, kRows);
      // A large budget still gives cache-sized batches (a few MiB), not one 8 MB batch.
      EXPECT_LE(largest * sizeof(std::uint64_t), std::size_t{4} << 20);
      EXPECT_GE(batches, kRows * sizeof(std::uint64_t) / (std::size_t{4} << 20));
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pearl::io
