// Variable-length strings read from the file's bytes (io/src/raw_vlen_strings.hpp) against
// the values h5py wrote (make_fixtures.py, vlen_strings): contiguous columns and compound
// members (read so), a chunked column (read by HDF5) over many heap collections, empty
// strings, UTF-8, a string longer than a collection, in a file with a user block; row
// ranges that start and end mid-collection and cross the reader's 64 Ki-row blocks; and a
// damaged heap, which is HDF5's error as before.
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
using testing::expect_values;
using testing::expected;
using testing::fixture;
using testing::input_error;

constexpr std::uint64_t kRows = 70'000;

void expect_rows(TableReader& r, const std::vector<ColumnSpec>& cols, std::uint64_t begin, std::uint64_t end) {
  const auto data = r.read(cols, begin, end);
  ASSERT_EQ(data.size(), cols.size());
  for (std::size_t i = 0; i < cols.size(); ++i) {
    ASSERT_EQ(column_size(data[i]), end - begin) << cols[i].name;
    expect_values(data[i], expected("vlen_strings", cols[i].name), begin,
                  r.info().path + "/" + cols[i].name + " rows " + std::to_string(begin) + ".." + std::to_string(end));
  }
}

TEST(VlenStrings, ColumnsContiguousAndChunkedInAFileWithAUserBlock) {
  TableReader r(fixture("vlen_strings.h5"), "/columns");
  ASSERT_EQ(r.rows(), kRows);
  EXPECT_EQ(r.info().find("chunked")->storage.describe(), "chunked 1000 rows");
  const std::vector<ColumnSpec> cols{{"text", DType::str}, {"chunked", DType::str}, {"note", DType::str}};
  expect_rows(r, cols, 0, kRows);
  for (const auto& [begin, end] : {std::pair{6, 9}, {65'530, 65'540}, {1, kRows - 1}, {kRows - 1, kRows}}) {
    expect_rows(r, cols, begin, end);
  }
}

TEST(VlenStrings, CompoundMembersBetweenNumbers) {
  TableReader r(fixture("vlen_strings.h5"), "/records");
  EXPECT_EQ(r.info().layout, Layout::compound);
  const std::vector<ColumnSpec> all{
      {"amount", DType::f64}, {"note", DType::str}, {"id", DType::u32}, {"text", DType::str}, {"flag", DType::u8}};
  expect_rows(r, all, 0, kRows);
  expect_rows(r, all, 65'530, 65'540);
  expect_rows(r, {{"text", DType::str}}, 3, 70);  // strings alone: no HDF5 read at all
  expect_rows(r, {{"flag", DType::u8}, {"note", DType::str}}, 100, 200);
}

TEST(VlenStrings, ReadInBatchesAsTheRunnerDoes) {
  const std::vector<ColumnSpec> cols{{"id", DType::u32}, {"text", DType::str}};
  const Catalogue cat = Catalogue::build(parse_input_spec("t=" + fixture("vlen_strings.h5").string() + ":/records"), cols);
  TableSource source(cat, cols, 0, 1, 4096);
  const auto want = expected("vlen_strings", "text");
  std::uint64_t seen = 0;
  while (auto batch = source.next()) {
    expect_values(batch->data(1), want, batch->first_row(), "batch");
    seen += batch->rows();
    source.recycle(std::move(*batch));
  }
  EXPECT_EQ(seen, kRows);
}

TEST(VlenStrings, ADamagedHeapIsHdf5sErrorAsBefore) {
  // The first heap collection (the first rows of /columns/text) lost its signature.
  TableReader r(fixture("vlen_damaged_heap.h5"), "/columns");
  const std::string m = input_error([&] { (void)r.read({{"text", DType::str}}, 0, 10); });
  expect_contains(m, {"vlen_damaged_heap.h5: table /columns: column 'text': cannot read rows 0..10"});
  expect_rows(r, {{"note", DType::str}}, 0, kRows);  // the other column's heap is whole
}

}  // namespace
}  // namespace pearl::io
