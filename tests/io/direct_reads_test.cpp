// What the reader reads past HDF5's element-by-element paths, against the values h5py wrote
// (make_fixtures.py):
//  - variable-length strings from the file's bytes (io/src/raw_vlen_strings.hpp; fixture
//    vlen_strings): contiguous columns and compound members read so, a chunked column read
//    by HDF5, many heap collections, empty strings, UTF-8, a string longer than a collection,
//    a file with a user block, row ranges that cross the reader's 64 Ki-row blocks, and a
//    damaged heap, which is HDF5's error as before;
//  - gzip chunks read whole and inflated by libdeflate (io/src/direct_chunks.hpp; fixture
//    gzip_chunks): with and without shuffle, a partial last chunk, ranges that start on a
//    chunk (read so) and inside one (read by HDF5), a range-checked conversion whose error
//    names the row, big-endian values (HDF5's), fixed strings, a chunk stored without its
//    filters, chunks never written, and a damaged chunk, HDF5's error as before.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fixtures.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/table_reader.hpp"
#include "pearl/io/table_source.hpp"

namespace pearl::io {
namespace {

using testing::expect_contains;
using testing::expect_table;
using testing::expect_values;
using testing::expected;
using testing::fixture;
using testing::input_error;

/// Every batch of a TableSource over `cols` equals the fixture's values, and all rows come.
void expect_batches(const std::string& file, const std::string& path, const std::string& fixture_name,
                    const std::vector<ColumnSpec>& cols, std::uint64_t batch_rows, std::uint64_t rows) {
  const Catalogue cat = Catalogue::build(parse_input_spec("t=" + fixture(file).string() + ":" + path), cols);
  TableSource source(cat, cols, 0, 1, batch_rows);
  std::uint64_t seen = 0;
  while (auto batch = source.next()) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      expect_values(batch->data(i), expected(fixture_name, cols[i].name), batch->first_row(), cols[i].name);
    }
    seen += batch->rows();
    source.recycle(std::move(*batch));
  }
  EXPECT_EQ(seen, rows);
}

constexpr std::uint64_t kVlenRows = 70'000;

TEST(VlenStrings, ColumnsContiguousAndChunkedInAFileWithAUserBlock) {
  TableReader r(fixture("vlen_strings.h5"), "/columns");
  ASSERT_EQ(r.rows(), kVlenRows);
  EXPECT_EQ(r.info().find("chunked")->storage.describe(), "chunked 1000 rows");
  const std::vector<ColumnSpec> cols{{"text", DType::str}, {"chunked", DType::str}, {"note", DType::str}};
  expect_table(r, "vlen_strings", cols, 0, kVlenRows);
  for (const auto& [begin, end] : {std::pair{6, 9}, {65'530, 65'540}, {1, kVlenRows - 1}, {kVlenRows - 1, kVlenRows}}) {
    expect_table(r, "vlen_strings", cols, begin, end);
  }
}

TEST(VlenStrings, CompoundMembersBetweenNumbers) {
  TableReader r(fixture("vlen_strings.h5"), "/records");
  EXPECT_EQ(r.info().layout, Layout::compound);
  const std::vector<ColumnSpec> all{
      {"amount", DType::f64}, {"note", DType::str}, {"id", DType::u32}, {"text", DType::str}, {"flag", DType::u8}};
  expect_table(r, "vlen_strings", all, 0, kVlenRows);
  expect_table(r, "vlen_strings", all, 65'530, 65'540);
  expect_table(r, "vlen_strings", {{"text", DType::str}}, 3, 70);  // strings alone: no HDF5 read at all
  expect_table(r, "vlen_strings", {{"flag", DType::u8}, {"note", DType::str}}, 100, 200);
}

TEST(VlenStrings, ReadInBatchesAsTheRunnerDoes) {
  expect_batches("vlen_strings.h5", "/records", "vlen_strings", {{"id", DType::u32}, {"text", DType::str}}, 4096,
                 kVlenRows);
}

TEST(VlenStrings, ADamagedHeapIsHdf5sErrorAsBefore) {
  // The first heap collection (the first rows of /columns/text) lost its signature.
  TableReader r(fixture("vlen_damaged_heap.h5"), "/columns");
  const std::string m = input_error([&] { (void)r.read({{"text", DType::str}}, 0, 10); });
  expect_contains(m, {"vlen_damaged_heap.h5: table /columns: column 'text': cannot read rows 0..10"});
  expect_table(r, "vlen_strings", {{"note", DType::str}}, 0, kVlenRows);  // the other column's heap is whole
}

TEST(VlenStrings, AStringLongerThanTheFileNamesItsRowInsteadOfReachingHdf5) {
  TableReader r(fixture("vlen_damaged_length.h5"), "/columns");
  expect_contains(input_error([&] { (void)r.read({{"text", DType::str}}, 0, 10); }),
                  {"vlen_damaged_length.h5: table /columns: column 'text': corrupt: the string at row 0 claims "
                   "4278190088 bytes"});
  expect_table(r, "vlen_strings", {{"note", DType::str}}, 0, kVlenRows);
}

constexpr std::uint64_t kGzipRows = 5000;
constexpr std::uint64_t kChunk = 256;

const std::vector<ColumnSpec> kColumns{{"id", DType::u64},  {"wide", DType::u32},  {"big", DType::i64},
                                       {"text", DType::str}, {"value", DType::f64}, {"sparse", DType::i64}};

TEST(GzipChunks, WholeChunksPartialChunksAndEveryStorageCase) {
  TableReader r(fixture("gzip_chunks.h5"), "/t");
  ASSERT_EQ(r.rows(), kGzipRows);
  EXPECT_EQ(r.info().find("id")->storage.describe(), "chunked 256 rows, gzip 4");
  EXPECT_EQ(r.info().find("wide")->storage.describe(), "chunked 256 rows, shuffle, gzip 4");
  expect_table(r, "gzip_chunks", kColumns, 0, kGzipRows);
  for (const auto& [begin, end] : {std::pair{kChunk, 3 * kChunk}, {3 * kChunk, 4 * kChunk}, {19 * kChunk, kGzipRows},
                                   {kChunk + 1, 5 * kChunk - 1}, {kGzipRows - 1, kGzipRows}, {0, 1}}) {
    expect_table(r, "gzip_chunks", kColumns, begin, end);
  }
}

TEST(GzipChunks, ReadInBatchesAsTheRunnerDoes) {
  expect_batches("gzip_chunks.h5", "/t", "gzip_chunks", kColumns, 1000, kGzipRows);  // 768-row batches: whole chunks
}

TEST(GzipChunks, AValueOutOfRangeNamesItsRow) {
  TableReader r(fixture("gzip_chunks.h5"), "/t");
  const std::vector<ColumnSpec> col{{"out_of_range", DType::u32}};
  expect_contains(input_error([&] { (void)r.read(col, 4 * kChunk, 5 * kChunk); }),
                  {"gzip_chunks.h5: table /t: column 'out_of_range': value 1099511627776 at row 1234 does not fit uint32"});
  EXPECT_EQ(column_size(r.read(col, 0, 4 * kChunk).front()), 4 * kChunk);
}

TEST(GzipChunks, ADamagedChunkIsHdf5sErrorAsBefore) {
  TableReader r(fixture("gzip_damaged.h5"), "/t");
  expect_contains(input_error([&] { (void)r.read({{"id", DType::u64}}, 0, kGzipRows); }),
                  {"gzip_damaged.h5: table /t: column 'id': cannot read rows 0..5000"});
  expect_table(r, "gzip_chunks", {{"id", DType::u64}}, 0, 2 * kChunk);  // the chunks before it are whole
  expect_table(r, "gzip_chunks", {{"wide", DType::u32}}, 0, kGzipRows);
}

}  // namespace
}  // namespace pearl::io
