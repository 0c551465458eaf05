// `pearl inspect` and the contract schemas.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "fixtures.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/contract.hpp"
#include "pearl/io/inspect.hpp"

namespace pearl::io {
namespace {

using testing::expect_contains;
using testing::fixture;

TEST(Contract, EveryTableOfTheContract) {
  EXPECT_EQ(contract_tables().size(), 11U);
  for (const char* t : {"cases", "population", "checkups", "contributions", "claims", "deaths", "unemployment",
                        "labour_force", "taps", "stations", "gps"}) {
    EXPECT_NE(find_contract_table(t), nullptr) << t;
  }
  EXPECT_EQ(find_contract_table("nope"), nullptr);
  const ContractTable& cases = *find_contract_table("cases");
  ASSERT_EQ(cases.columns.size(), 8U);
  EXPECT_EQ(cases.columns[3], (ColumnSpec{"age_years", DType::u8}));
  EXPECT_EQ(cases.columns[5], (ColumnSpec{"disease", DType::str}));
  EXPECT_EQ(find_contract_table("population")->columns[1], (ColumnSpec{"year", DType::u16}));
  EXPECT_EQ(find_contract_table("gps")->columns[4], (ColumnSpec{"speed_kmh", DType::f32}));
}

TEST(Inspect, FindsTablesOfEveryLayout) {
  const auto file = std::make_shared<const File>(File::open_read(fixture("compound.h5")));
  const auto tables = find_tables(file);
  ASSERT_EQ(tables.size(), 2U);
  EXPECT_EQ(tables[0].path, "/stations");
  EXPECT_EQ(tables[1].path, "/taps");
  ASSERT_TRUE(tables[1].info.has_value());
  const ContractMatch m = match_contract(*tables[1].info);
  EXPECT_TRUE(m.matches) << m.summary;
  EXPECT_TRUE(match_contract(*tables[0].info).matches);

  const auto pandas = find_tables(std::make_shared<const File>(File::open_read(fixture("pandas_table.h5"))));
  ASSERT_EQ(pandas.size(), 1U);
  EXPECT_EQ(pandas[0].path, "/cases");
  ASSERT_TRUE(pandas[0].info.has_value());
  EXPECT_EQ(pandas[0].info->object, "/cases/table");

  const auto blocks = find_tables(std::make_shared<const File>(File::open_read(fixture("pandas_blocks.h5"))));
  ASSERT_EQ(blocks.size(), 1U);
  EXPECT_FALSE(blocks[0].info.has_value());
  expect_contains(blocks[0].problem, {"data_columns=True"});
}

TEST(Inspect, PrintsLayoutTypesStorageAndContractMatch) {
  std::ostringstream out;
  inspect({fixture("columnar.h5"), fixture("compound.h5"), fixture("pandas_table.h5"), fixture("pandas_fixed.h5"),
           fixture("float_card.h5"), fixture("unequal.h5")},
          out);
  const std::string text = out.str();
  expect_contains(text, {"columnar.h5\n", "/cases: columnar group, 1000 rows; matches contract table 'cases'",
                         "age_years", "int16", "uint8", "checked", "chunked 128 rows, shuffle, gzip 4",
                         "/taps: compound dataset, 777 rows; matches contract table 'taps'",
                         "/cases (at /cases/table): compound dataset, 300 rows; matches contract table 'cases'",
                         "pandas_fixed.h5\n  /cases: not readable:", "data_columns=True",
                         "does not match contract table 'taps': column 'card_id' is float64, not convertible to "
                         "uint64: a float column cannot be read as an integer without loss (store it as uint64); "
                         "no column 'tap_time'",
                         "/deaths: not readable:", "differ in length"});
}

TEST(Inspect, BadFilesAreNamedAfterTheGoodOnesArePrinted) {
  std::ostringstream out;
  try {
    inspect({fixture("not_hdf5.h5"), fixture("strings.h5"), fixture("truncated.h5")}, out);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    expect_contains(e.what(), {"2 files cannot be read", "not_hdf5.h5", "truncated.h5"});
  }
  expect_contains(out.str(), {"strings.h5\n", "/strings: columnar group, 5 rows; no contract table 'strings'",
                              "string(fixed 8, space-padded, ascii)", "string(variable, utf-8)"});
}

TEST(Inspect, ShowsTheLongestValueOfEachStringColumnInBytes) {
  // What a job's FixedString<N> key must hold: bytes, not characters (UTF-8 Chinese is 3 each).
  const auto tables = find_tables(std::make_shared<const File>(File::open_read(fixture("strings.h5"))));
  ASSERT_EQ(tables.size(), 1U);
  ASSERT_TRUE(tables[0].info.has_value());
  const auto& columns = tables[0].info->columns;
  ASSERT_EQ(tables[0].longest.size(), columns.size());
  std::map<std::string, std::int64_t> longest;
  for (std::size_t i = 0; i < columns.size(); ++i) longest[columns[i].name] = tables[0].longest[i];
  const std::map<std::string, std::int64_t> want = {{"nullpad", 6},    {"spacepad", 6},       {"nullterm", 6},
                                                    {"ascii_variable", 6}, {"utf8_fixed", 13}, {"utf8_variable", 13},
                                                    {"number", -1}};  // "dengue"; "Tianhe 天河"
  EXPECT_EQ(longest, want);
  std::ostringstream out;
  inspect({fixture("strings.h5")}, out);
  expect_contains(out.str(), {"longest", "13 B"});
}

TEST(Inspect, TypesThatWouldMakeARowGigabytesWideAreShownNotRead) {
  // Strings wider than the reader takes: inspect shows them without reading them.
  std::ostringstream out;
  inspect({fixture("oversized.h5")}, out);
  expect_contains(out.str(), {"/stations: columnar group, 3 rows", "string(fixed 100000",
                              "column 'name' is string(fixed 100000, null-padded, ascii), not convertible to string: "
                              "fixed-length strings of more than 65536 bytes are not read",
                              "/taps: not readable:", "records of 2000008 bytes"});
  const auto tables = find_tables(std::make_shared<const File>(File::open_read(fixture("oversized.h5"))));
  ASSERT_EQ(tables.size(), 2U);
  ASSERT_TRUE(tables[0].info.has_value());
  const auto& columns = tables[0].info->columns;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == "name") {
      EXPECT_EQ(tables[0].longest[i], -1);
    }
    if (columns[i].name == "short_name") {
      EXPECT_EQ(tables[0].longest[i], 3);
    }
  }
}

}  // namespace
}  // namespace pearl::io
