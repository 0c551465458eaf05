// Bad values (issue 16, findings 7 and 8): the contract's column domains, the row checks
// of --on-bad-row fail|skip as a TableSource reads, and the string faults the reader
// must name (invalid UTF-8, an embedded NUL, a 1 MB value, a complex column).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/fixed_string.hpp"
#include "pearl/core/value_text.hpp"
#include "pearl/io/catalogue.hpp"
#include "pearl/io/column_domains.hpp"
#include "pearl/io/row_checks.hpp"
#include "pearl/io/table_reader.hpp"
#include "pearl/io/table_source.hpp"

namespace pearl::io {
namespace {

using testing::expect_contains;
using testing::fixture;
using testing::input_error;

/// The rows find_outside reports for `values` in the domain of table.column.
template <class T>
std::vector<std::size_t> outside(const char* table, const char* column, std::vector<T> values) {
  const ColumnDomain* d = contract_domain(table, column);
  EXPECT_NE(d, nullptr) << table << "." << column;
  std::vector<std::size_t> rows;
  if (d != nullptr) find_outside(*d, ColumnData(std::move(values)), rows);
  return rows;
}

using Rows = std::vector<std::size_t>;

TEST(ColumnDomains, AgeSexAndRegionOfCases) {
  EXPECT_EQ(outside<std::uint8_t>("cases", "age_years", {0, 120, 121, 200, 35}), (Rows{2, 3}));
  EXPECT_EQ(outside<std::uint8_t>("cases", "sex", {1, 2, 0, 7, 9}), (Rows{2, 3, 4}));
  EXPECT_EQ(outside<std::uint8_t>("checkups", "sex", {1, 2, 9, 0}), (Rows{3}));
  EXPECT_EQ(outside<std::uint8_t>("checkups", "age_years", {130, 131}), (Rows{1}));
  // County codes of the 21 cities and city codes are in; province level, other
  // provinces and 44xx digits that are no city are out.
  EXPECT_EQ(outside<std::uint32_t>("cases", "region_code",
                                   {440106, 441900, 442000, 445302, 440100, 110101, 440000, 443000, 0, 4294967295U}),
            (Rows{5, 6, 7, 8, 9}));
  EXPECT_EQ(outside<std::uint8_t>("population", "age_group", {0, 17, 18}), (Rows{2}));
  EXPECT_EQ(outside<std::int64_t>("population", "population", {0, 5, -1}), (Rows{2}));
}

TEST(ColumnDomains, MoneyDaysMonthsAndCodes) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(outside<double>("claims", "amount", {0, 1.5, -0.01, nan, inf}), (Rows{2, 3, 4}));
  EXPECT_EQ(outside<double>("contributions", "paid", {-inf, 1e9}), (Rows{0}));
  EXPECT_EQ(outside<std::int32_t>("contributions", "month", {202401, 202413, 202400, 189912, 210001}), (Rows{1, 2, 3, 4}));
  EXPECT_EQ(outside<std::int32_t>("unemployment", "end_day", {-1, 19000, -25568, -2}), (Rows{2}));
  EXPECT_EQ(outside<std::int32_t>("cases", "onset_day", {-25567, 47481, -25568, 47482}), (Rows{2, 3}));
  EXPECT_EQ(outside<std::uint8_t>("taps", "tap_type", {1, 3, 0, 4}), (Rows{2, 3}));
  EXPECT_EQ(outside<double>("gps", "lat", {22.5, -91}), (Rows{1}));
  // Identifiers and free measurements have no domain; neither has a table outside the contract.
  EXPECT_EQ(contract_domain("cases", "case_id"), nullptr);
  EXPECT_EQ(contract_domain("checkups", "bmi"), nullptr);
  EXPECT_EQ(contract_domain("my_table", "age_years"), nullptr);
}

TEST(ValueText, QuotesShortensAndEscapes) {
  EXPECT_EQ(quote_value("A90"), "'A90'");
  EXPECT_EQ(quote_value("登革热"), "'登革热'");
  EXPECT_EQ(quote_value(std::string("B\xff\xfe", 3)), "'B\\xff\\xfe'");
  EXPECT_EQ(quote_value(std::string("a\0b\n", 4)), "'a\\x00b\\x0a'");
  const std::string big(1 << 20, 'x');
  const std::string q = quote_value(big);
  EXPECT_EQ(q, "'" + std::string(80, 'x') + "…' (1048576 bytes)");
  // 80 characters, not bytes: a long Chinese value is cut at a character boundary.
  std::string chinese;
  for (int i = 0; i < 100; ++i) chinese += "热";
  EXPECT_EQ(quote_value(chinese).find("热…'"), 1 + 79 * std::string("热").size());
  EXPECT_EQ(invalid_utf8_at("ok 深圳"), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_at(std::string("ab\xc3", 3)), 2U);
  EXPECT_EQ(invalid_utf8_at("\xed\xa0\x80"), 0U);  // a surrogate
}

TEST(TableReader, AnEmbeddedNulInAFixedStringIsKeptTrailingNulsArePadding) {
  TableReader r(fixture("bad_values.h5"), "/cases");
  const auto data = r.read({{"disease_fixed", DType::str}}, 0, r.rows());
  const auto& v = std::get<std::vector<std::string>>(data.front());
  EXPECT_EQ(v[1], std::string("A9\0X", 4));  // not cut to "A9"
  EXPECT_EQ(v[3], "A90");
  EXPECT_EQ(string_fault(v[1]), "holds a NUL byte");
  EXPECT_TRUE(string_fault(v[3]).empty());
}

TEST(TableReader, AComplexColumnHasAnUnsupportedTypeNotAMissingColumn) {
  TableReader r(fixture("bad_values.h5"), "/cases");
  expect_contains(input_error([&] { r.check({{"weight", DType::f64}}); }),
                  {"bad_values.h5: table /cases: column 'weight' has an unsupported type (compound {r float64, i float64})"});
  EXPECT_EQ(r.info().find("weight"), nullptr);  // not a column: the table's other columns read as before
}

/// The whole fixture table as one source, with row checks.
TableSource checked_source(const std::string& file, const std::vector<ColumnSpec>& columns, BadRowPolicy policy,
                           std::shared_ptr<RejectLog> log, std::uint64_t batch_rows = 1 << 16) {
  const Catalogue cat = Catalogue::build(parse_input_spec("cases=" + fixture(file).string()), columns);
  TableSource source(cat, columns, 0, 1, batch_rows);
  source.check_rows(RowChecks("cases", "cases", columns, policy, std::move(log)));
  return source;
}

const std::vector<ColumnSpec> kCaseColumns{{"age_years", DType::u8}, {"sex", DType::u8}, {"region_code", DType::u32}};

TEST(RowChecks, FailNamesFileTableRowColumnAndValue) {
  for (const char* file : {"bad_values.h5", "bad_values_compound.h5"}) {
    auto source = checked_source(file, kCaseColumns, BadRowPolicy::fail, nullptr);
    expect_contains(input_error([&] { (void)source.next(); }),
                    {std::string(file) + ": table /cases: row 1: column 'age_years': value 200 is not in 0..120",
                     "--on-bad-row skip"});
  }
  // Rows counted within the file, also when a later batch holds the bad row.
  auto source = checked_source("bad_values.h5", {{"sex", DType::u8}}, BadRowPolicy::fail, nullptr, 1);
  ASSERT_TRUE(source.next().has_value());
  expect_contains(input_error([&] { (void)source.next(); }), {"row 1: column 'sex': value 7 is not 1 or 2"});
}

TEST(RowChecks, SkipDropsTheBadRowsAndLogsEachBadValueOnce) {
  auto log = std::make_shared<RejectLog>();
  for (int pass = 0; pass < 2; ++pass) {  // a job reading its input twice logs each value once
    auto source = checked_source("bad_values.h5", kCaseColumns, BadRowPolicy::skip, log, 2);
    std::vector<std::uint8_t> ages;
    while (auto b = source.next()) {
      for (auto a : b->column<std::uint8_t>("age_years")) ages.push_back(a);
      EXPECT_EQ(b->column<std::uint8_t>("sex").size(), b->rows());
    }
    EXPECT_EQ(ages, (std::vector<std::uint8_t>{10, 120}));  // rows 0 and 4
  }
  const auto rows = log->rows();
  ASSERT_EQ(rows.size(), 5U);
  const std::vector<std::pair<std::uint64_t, std::string>> want{
      {1, "age_years"}, {1, "sex"}, {2, "age_years"}, {2, "region_code"}, {3, "sex"}};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].row, want[i].first);
    EXPECT_EQ(rows[i].column, want[i].second);
    EXPECT_EQ(rows[i].file, fixture("bad_values.h5").string());
  }
  EXPECT_EQ(rows[0].value, "200");
  EXPECT_EQ(rows[0].reason, "is not in 0..120");
  EXPECT_EQ(rows[3].value, "110101");
  EXPECT_EQ(rows[3].reason, "is not a Guangdong region code");
}

TEST(RowChecks, InvalidUtf8IsFoundWhenReadAndALongValueIsShortened) {
  auto source = checked_source("bad_values.h5", {{"disease", DType::str}}, BadRowPolicy::fail, nullptr);
  expect_contains(input_error([&] { (void)source.next(); }),
                  {"bad_values.h5: table /cases: row 2: column 'disease': value 'B\\xff\\xfe' is not valid UTF-8"});
  auto log = std::make_shared<RejectLog>();
  auto skipping = checked_source("bad_values.h5", {{"disease", DType::str}}, BadRowPolicy::skip, log);
  const auto batch = skipping.next();
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->rows(), 3U);
  const auto rows = log->rows();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[1].row, 4U);
  EXPECT_LT(rows[1].value.size(), 120U);  // not the 1 MB value
  EXPECT_NE(rows[1].value.find("(1048577 bytes)"), std::string::npos);
}

TEST(RowChecks, AnEmbeddedNulFailsNamingFileColumnAndRow) {
  auto source = checked_source("bad_values.h5", {{"disease_fixed", DType::str}}, BadRowPolicy::fail, nullptr);
  expect_contains(input_error([&] { (void)source.next(); }),
                  {"bad_values.h5: table /cases: row 1: column 'disease_fixed': value 'A9\\x00X' holds a NUL byte"});
}

TEST(RowChecks, AStringLongerThanTheJobsFixedWidthIsABadRow) {
  // disease_fixed holds J11, A9<NUL>X, B08.4, A90, x: at width 4, row 2 is one byte too long.
  auto log = std::make_shared<RejectLog>();
  auto skipping =
      checked_source("bad_values.h5", {fixed_string_column<FixedString<4>>("disease_fixed")}, BadRowPolicy::skip, log);
  const auto batch = skipping.next();
  ASSERT_TRUE(batch.has_value());
  const auto kept = batch->column<std::string>("disease_fixed");
  EXPECT_EQ(std::vector<std::string>(kept.begin(), kept.end()), (std::vector<std::string>{"J11", "A90", "x"}));
  const auto rows = log->rows();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].reason, "holds a NUL byte");  // the fault first, also when a value is both
  EXPECT_EQ(rows[1].row, 2U);
  EXPECT_EQ(rows[1].column, "disease_fixed");
  EXPECT_EQ(rows[1].value, "'B08.4'");
  EXPECT_EQ(rows[1].reason, "is longer than the job's fixed width of 4 bytes");
  // fail: the first such value names file, table, row and column
  auto failing = checked_source("bad_values.h5", {{"disease_fixed", DType::str, 2}}, BadRowPolicy::fail, nullptr);
  expect_contains(input_error([&] { (void)failing.next(); }),
                  {"bad_values.h5: table /cases: row 0: column 'disease_fixed': value 'J11' is longer than the job's "
                   "fixed width of 2 bytes (--on-bad-row skip sets such rows aside)"});
  // exactly N bytes fit
  auto log5 = std::make_shared<RejectLog>();
  auto fits = checked_source("bad_values.h5", {{"disease_fixed", DType::str, 5}}, BadRowPolicy::skip, log5);
  EXPECT_EQ(fits.next()->rows(), 4U);
  EXPECT_EQ(log5->rows().size(), 1U);  // the NUL only
}

TEST(RowChecks, BadRowPolicyParses) {
  EXPECT_EQ(parse_bad_row_policy("fail"), BadRowPolicy::fail);
  EXPECT_EQ(parse_bad_row_policy("skip"), BadRowPolicy::skip);
  expect_contains(input_error([] { (void)parse_bad_row_policy("drop"); }), {"--on-bad-row", "'drop'", "fail, skip"});
}

}  // namespace
}  // namespace pearl::io
