// The table reader against files written by h5py and pandas (tests/io/make_fixtures.py):
// both layouts, every accepted storage variation, and the refusals with their messages.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fixtures.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/contract.hpp"
#include "pearl/io/stored_type.hpp"
#include "pearl/io/table_reader.hpp"

namespace pearl::io {
namespace {

using testing::expect_contains;
using testing::expect_table;
using testing::expect_values;
using testing::input_error;
using testing::expected;
using testing::fixture;


const std::vector<ColumnSpec>& cases_columns() { return find_contract_table("cases")->columns; }

TEST(StoredTypes, ConversionFollowsTheContract) {
  const auto integer = [](std::size_t size, bool is_signed) {
    StoredType t;
    t.cls = TypeClass::integer;
    t.size = size;
    t.is_signed = is_signed;
    return t;
  };
  const auto floating = [](std::size_t size) {
    StoredType t;
    t.cls = TypeClass::floating;
    t.size = size;
    t.is_signed = true;
    return t;
  };
  StoredType str;
  str.cls = TypeClass::string;
  EXPECT_EQ(conversion(integer(1, false), DType::u8), Conversion::exact);
  EXPECT_EQ(conversion(integer(2, true), DType::u8), Conversion::checked);    // int16 age_years
  EXPECT_EQ(conversion(integer(8, true), DType::u32), Conversion::checked);   // int64 region_code
  EXPECT_EQ(conversion(integer(2, false), DType::u32), Conversion::widening);
  EXPECT_EQ(conversion(integer(4, false), DType::i32), Conversion::checked);
  EXPECT_EQ(conversion(integer(4, false), DType::i64), Conversion::widening);
  EXPECT_EQ(conversion(integer(2, true), DType::i32), Conversion::widening);
  EXPECT_EQ(conversion(integer(1, true), DType::u64), Conversion::checked);
  EXPECT_EQ(conversion(integer(8, false), DType::i64), Conversion::checked);
  EXPECT_EQ(conversion(integer(4, true), DType::f64), Conversion::widening);
  EXPECT_EQ(conversion(integer(8, true), DType::f64), Conversion::checked);
  EXPECT_EQ(conversion(integer(2, false), DType::f32), Conversion::widening);
  EXPECT_EQ(conversion(integer(4, false), DType::f32), Conversion::checked);
  EXPECT_EQ(conversion(floating(4), DType::f64), Conversion::widening);
  EXPECT_EQ(conversion(floating(2), DType::f32), Conversion::widening);
  EXPECT_EQ(conversion(floating(8), DType::f32), Conversion::checked);
  EXPECT_EQ(conversion(floating(8), DType::f64), Conversion::exact);
  EXPECT_EQ(conversion(floating(8), DType::u64), Conversion::none);  // float card_id
  EXPECT_EQ(conversion(str, DType::u32), Conversion::none);
  EXPECT_EQ(conversion(integer(4, false), DType::str), Conversion::none);
  EXPECT_EQ(conversion(str, DType::str), Conversion::exact);
  // Widths a few bytes of a damaged or odd file can declare: refused, not read.
  str.size = kMaxFixedStringBytes;
  EXPECT_EQ(conversion(str, DType::str), Conversion::exact);
  str.size = kMaxFixedStringBytes + 1;
  EXPECT_EQ(conversion(str, DType::str), Conversion::none);
  str.variable = true;
  str.size = 0;
  EXPECT_EQ(conversion(str, DType::str), Conversion::exact);
  EXPECT_EQ(conversion(floating(16), DType::f64), Conversion::checked);  // long double
  EXPECT_EQ(conversion(floating(32), DType::f64), Conversion::none);
  EXPECT_EQ(integer(2, true).name(), "int16");
  EXPECT_EQ(floating(8).name(), "float64");
}

TEST(TableReader, ColumnarGroupWithMixedWidthsAndCompression) {
  TableReader r(fixture("columnar.h5"), "cases");  // the leading '/' is optional
  const TableInfo& info = r.info();
  EXPECT_EQ(info.layout, Layout::columnar);
  EXPECT_EQ(info.path, "/cases");
  EXPECT_EQ(info.object, "/cases");
  EXPECT_EQ(r.rows(), 1000U);
  ASSERT_NE(info.find("note"), nullptr);      // an extra column, ignored unless asked for
  EXPECT_EQ(info.find("matrix"), nullptr);    // 2-D: not a column
  EXPECT_EQ(info.find("age_years")->stored.name(), "int16");
  EXPECT_EQ(info.find("region_code")->stored.name(), "int64");
  EXPECT_TRUE(info.find("report_day")->stored.big_endian);
  EXPECT_EQ(info.find("disease")->stored.pad, StringPad::null_padded);
  const StorageInfo& s = info.find("person_id")->storage;
  EXPECT_EQ(s.chunk_rows, 128U);
  ASSERT_EQ(s.filters.size(), 2U);
  EXPECT_EQ(s.describe(), "chunked 128 rows, shuffle, gzip 4");
  EXPECT_EQ(r.chunk_rows(cases_columns()), 128U);

  r.check(cases_columns());
  expect_table(r, "columnar", cases_columns(), 0, r.rows());
  expect_table(r, "columnar", cases_columns(), 130, 517);  // crosses chunk boundaries
  expect_table(r, "columnar", {{"age_years", DType::i16}, {"region_code", DType::i64}}, 999, 1000);
  EXPECT_EQ(column_size(r.read(cases_columns(), 5, 5).front()), 0U);
}

TEST(TableReader, CompoundDatasetReadsOnlyTheProjection) {
  TableReader r(fixture("compound.h5"), "/taps");
  EXPECT_EQ(r.info().layout, Layout::compound);
  EXPECT_EQ(r.rows(), 777U);
  EXPECT_EQ(r.info().find("fare")->storage.describe(), "chunked 64 rows, shuffle, gzip 6");
  EXPECT_EQ(r.chunk_rows(std::vector<ColumnSpec>{{"fare", DType::f64}}), 64U);
  const std::vector<ColumnSpec> some{{"fare", DType::f64}, {"card_id", DType::u64}, {"tap_type", DType::u8}};
  expect_table(r, "compound", some, 0, 777);
  expect_table(r, "compound", some, 63, 129);
  expect_table(r, "compound", find_contract_table("taps")->columns, 0, 777);
}

TEST(TableReader, CompoundBigEndianNarrowTypesAndVariableStrings) {
  TableReader r(fixture("compound.h5"), "/stations");
  EXPECT_TRUE(r.info().find("station_id")->stored.big_endian);
  EXPECT_EQ(r.info().find("name")->stored.name(), "string(variable, utf-8)");
  EXPECT_EQ(r.info().find("name")->storage.describe(), "contiguous");
  expect_table(r, "stations", find_contract_table("stations")->columns, 0, 4);  // u16→u32, u8→u16, f32→f64
  expect_table(r, "stations", {{"name", DType::str}}, 1, 3);
}

TEST(TableReader, PandasTableFormatIsFoundUnderTheKey) {
  TableReader r(fixture("pandas_table.h5"), "/cases");
  EXPECT_EQ(r.info().layout, Layout::compound);
  EXPECT_EQ(r.info().object, "/cases/table");
  EXPECT_EQ(r.rows(), 300U);
  EXPECT_EQ(r.info().find("disease")->stored.pad, StringPad::null_terminated);
  EXPECT_NE(r.info().find("disease")->storage.describe().find("gzip 5"), std::string::npos);
  expect_table(r, "pandas_table", cases_columns(), 0, 300);
  expect_table(r, "pandas_table", cases_columns(), 299, 300);
}

TEST(TableReader, PandasBlockPackedTablesAreRefusedWithTheRewrite) {
  for (const char* file : {"pandas_blocks.h5", "pandas_fixed.h5"}) {
    const std::string m = input_error([&] { TableReader r(fixture(file), "/cases"); });
    expect_contains(m, {file, "table /cases", "format=\"table\"", "data_columns=True"});
  }
}

TEST(TableReader, EveryStringStorage) {
  TableReader r(fixture("strings.h5"), "/strings");
  EXPECT_EQ(r.info().find("spacepad")->stored.pad, StringPad::space_padded);
  EXPECT_EQ(r.info().find("nullterm")->stored.pad, StringPad::null_terminated);
  EXPECT_EQ(r.info().find("utf8_fixed")->stored.charset, Charset::utf8);
  EXPECT_EQ(r.info().find("ascii_variable")->stored.name(), "string(variable, ascii)");
  EXPECT_EQ(r.info().find("spacepad")->stored.name(), "string(fixed 8, space-padded, ascii)");
  std::vector<ColumnSpec> cols;
  for (const char* c : {"nullpad", "spacepad", "nullterm", "utf8_fixed", "utf8_variable", "ascii_variable"}) {
    cols.push_back({c, DType::str});
  }
  cols.push_back({"number", DType::f64});
  expect_table(r, "strings", cols, 0, 5);
  expect_table(r, "strings", cols, 1, 4);
}

TEST(TableReader, AValueThatDoesNotFitNamesFileTableColumnValueAndRow) {
  TableReader r(fixture("out_of_range.h5"), "/cases");
  const std::vector<ColumnSpec> age{{"age_years", DType::u8}};
  r.check(age);  // int16 → uint8 is allowed by type; the value decides
  const std::string m = input_error([&] { (void)r.read(age, 0, r.rows()); });
  expect_contains(m, {"out_of_range.h5: table /cases: column 'age_years': value 300 at row 17 does not fit uint8"});
  EXPECT_EQ(column_size(r.read(age, 0, 17).front()), 17U);  // the rows before are fine
  EXPECT_EQ(column_size(r.read(age, 18, 40).front()), 22U);
  EXPECT_EQ(std::get<std::vector<std::uint16_t>>(r.read({{"age_years", DType::u16}}, 17, 18).front()).at(0), 300);
}

TEST(TableReader, AValueThatDoesNotFitInACompoundTable) {
  TableReader r(fixture("out_of_range_compound.h5"), "/cases");
  const std::vector<ColumnSpec> cols{{"case_id", DType::u64}, {"age_years", DType::u8}, {"region_code", DType::u32}};
  expect_contains(input_error([&] { (void)r.read(cols, 0, r.rows()); }),
                  {"out_of_range_compound.h5: table /cases: column 'age_years': value -1 at row 23 does not fit uint8"});
  const auto ok = r.read(cols, 24, 40);
  EXPECT_EQ(std::get<std::vector<std::uint8_t>>(ok[1]).front(), 30);
  EXPECT_EQ(std::get<std::vector<std::uint32_t>>(ok[2]).back(), 440106U);
}

TEST(TableReader, AFilterThisHdf5CannotDecodeIsNamed) {
  TableReader r(fixture("lzf.h5"), "/deaths");
  EXPECT_FALSE(r.info().find("person_id")->storage.filters.at(0).available);
  expect_contains(input_error([&] { r.check(std::vector<ColumnSpec>{{"person_id", DType::u64}}); }),
                  {"lzf.h5: table /deaths: column 'person_id' is compressed with filter 32000", "cannot decode"});
}

TEST(TableReader, TypeErrorsNameFileTableColumnAndBothTypes) {
  {
    TableReader r(fixture("float_card.h5"), "/taps");
    const std::string m = input_error([&] { r.check(std::vector<ColumnSpec>{{"card_id", DType::u64}}); });
    expect_contains(m, {"float_card.h5", "table /taps", "column 'card_id'", "float64", "uint64"});
  }
  TableReader r(fixture("columnar.h5"), "/cases");
  expect_contains(input_error([&] { (void)r.read({{"disease", DType::u32}}, 0, 1); }),
                  {"columnar.h5", "table /cases", "column 'disease'", "string(fixed", "uint32"});
  expect_contains(input_error([&] { r.check(std::vector<ColumnSpec>{{"sex", DType::str}}); }),
                  {"column 'sex'", "uint8", "string"});
  expect_contains(input_error([&] { r.check(std::vector<ColumnSpec>{{"nope", DType::u8}}); }),
                  {"columnar.h5: table /cases: no column 'nope'", "age_years"});
  expect_contains(input_error([&] { r.check(std::vector<ColumnSpec>{{"sex", DType::u8}, {"sex", DType::u8}}); }),
                  {"'sex' is requested twice"});
  EXPECT_THROW((void)r.read(cases_columns(), 10, 1001), Error);
}

TEST(TableReader, LosslessOnlyConversions) {
  TableReader r(fixture("lossy.h5"), "/values");
  expect_table(r, "lossy", {{"exact_f64", DType::f32}}, 0, 4);  // every value round-trips
  expect_table(r, "lossy", {{"half", DType::f32}}, 0, 4);       // float16 widens
  expect_table(r, "lossy", {{"half", DType::f64}}, 0, 4);
  expect_contains(input_error([&] { (void)r.read({{"inexact_f64", DType::f32}}, 0, 4); }),
                  {"column 'inexact_f64': value 0.1", "at row 1 cannot be stored exactly as float32"});
  expect_contains(input_error([&] { (void)r.read({{"big_int", DType::f64}}, 0, 4); }),
                  {"column 'big_int': value 9007199254740993 at row 3 cannot be stored exactly as float64"});
  EXPECT_EQ(column_size(r.read({{"big_int", DType::f64}}, 0, 3).front()), 3U);  // ±2^53 are exact
  expect_contains(input_error([&] { (void)r.read({{"negative", DType::u32}}, 0, 4); }),
                  {"value -1 at row 2 does not fit uint32"});
  expect_contains(input_error([&] { (void)r.read({{"u64_top", DType::i64}}, 0, 4); }),
                  {"value 9223372036854775808 at row 1 does not fit int64"});
  EXPECT_EQ(std::get<std::vector<std::uint64_t>>(r.read({{"u64_top", DType::u64}}, 1, 2).front()).at(0),
            std::uint64_t{1} << 63);
  expect_contains(input_error([&] { r.check(std::vector<ColumnSpec>{{"flag", DType::u8}}); }),
                  {"column 'flag'", "enum", "uint8"});
}

TEST(TableReader, TypesThatWouldMakeARowGigabytesWideAreRefused) {
  TableReader r(fixture("oversized.h5"), "/stations");
  expect_contains(input_error([&] { r.check(std::vector<ColumnSpec>{{"name", DType::str}}); }),
                  {"oversized.h5: table /stations: column 'name'", "fixed 100000",
                   "fixed-length strings of more than 65536 bytes are not read", "variable-length"});
  expect_contains(input_error([&] { r.check(std::vector<ColumnSpec>{{"lon", DType::f64}}); }),
                  {"column 'lon'", "floats wider than 128 bits"});
  // The widest fixed-length strings read, and the table's other columns.
  const auto data = r.read({{"short_name", DType::str}, {"station_id", DType::u32}}, 0, 3);
  EXPECT_EQ(std::get<std::vector<std::string>>(data[0]), (std::vector<std::string>{"a", "bb", "ccc"}));
  EXPECT_EQ(std::get<std::vector<std::uint32_t>>(data[1]), (std::vector<std::uint32_t>{0, 1, 2}));
  expect_contains(input_error([] { TableReader t(fixture("oversized.h5"), "/taps"); }),
                  {"oversized.h5: table /taps", "records of 2000008 bytes"});
}

TEST(TableReader, RowsDeclaredButNeverWrittenAreRefused) {
  expect_contains(input_error([] { TableReader r(fixture("unwritten.h5"), "/deaths"); }),
                  {"unwritten.h5: /deaths/death_day: declares 5 rows but holds data for only 0", "never"});
  expect_contains(input_error([] { TableReader r(fixture("unwritten.h5"), "/gps"); }),
                  {"unwritten.h5: /gps/speed_kmh: declares 100 rows but holds data for only 30"});
}

TEST(TableReader, AVirtualDatasetReadsItsSourceRows) {
  TableReader r(fixture("virtual.h5"), "/deaths");
  const auto ids = std::get<std::vector<std::uint64_t>>(r.read({{"person_id", DType::u64}}, 0, 10).front());
  EXPECT_EQ(ids.size(), 10U);
  EXPECT_EQ(ids.at(9), 27U);
}

TEST(TableReader, UnreadableFilesAndTablesAreInputErrorsNamingThem) {
  expect_contains(input_error([] { TableReader r(fixture("truncated.h5"), "/cases"); }), {"truncated.h5"});
  expect_contains(input_error([] { TableReader r(fixture("not_hdf5.h5"), "/cases"); }), {"not_hdf5.h5", "not an HDF5"});
  expect_contains(input_error([] { TableReader r(fixture("missing.h5"), "/cases"); }), {"missing.h5", "no such file"});
  expect_contains(input_error([] { TableReader r(fixture("columnar.h5"), "/deaths"); }),
                  {"columnar.h5: table /deaths: not found", "/cases"});
  expect_contains(input_error([] { TableReader r(fixture("columnar.h5"), "/cases/age_years"); }),
                  {"not a table"});
  expect_contains(input_error([] { TableReader r(fixture("unequal.h5"), "/deaths"); }),
                  {"unequal.h5: table /deaths: columns differ in length", "5", "4"});
  expect_contains(input_error([] { TableReader r(fixture("columnar.h5"), "/cases/sub"); }), {"no 1-D datasets"});
}

}  // namespace
}  // namespace pearl::io
