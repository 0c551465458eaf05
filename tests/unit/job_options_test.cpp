// The shared pieces every analytics job uses for its options: typed declarations as the
// program parses them (domains, defaults, flags, repeated and required options, name
// lists), list parsing, region grouping and small-cell suppression (one implementation,
// so the rules cannot drift).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "pearl/cluster/cli.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"
#include "pearl/core/options.hpp"
#include "pearl/core/region.hpp"
#include "pearl/core/suppression.hpp"

namespace {

// Parses `args` into a spec's options as the runner does.
void parse(const pearl::JobSpec& spec, const std::vector<std::string>& args) {
  pearl::cluster::parse_job_options(spec, args);
}

// The message of the InputError `args` give, or "no error".
std::string error_of(const pearl::JobSpec& spec, const std::vector<std::string>& args) {
  try {
    parse(spec, args);
  } catch (const pearl::InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(OptionDomain, CheckedWhenTheCommandLineIsParsedWithTheOptionsName) {
  std::uint64_t rows = 0;
  pearl::JobSpec spec("x");
  spec.option("rows", &rows, 10, "rows").at_least(0);
  parse(spec, {"--rows", "12"});
  EXPECT_EQ(rows, 12U);
  EXPECT_EQ(error_of(spec, {"--rows", "-5"}), "option '--rows': '-5' is negative (domain N>=0)");
  const std::string help = pearl::cluster::job_options_text(spec);
  EXPECT_NE(help.find("--rows N>=0 (=10)"), std::string::npos) << help;
}

// Boost's own what() fills "%value%" until none is left: a value containing it looped forever
// (tests/fuzz/corpus/command_line/value-with-placeholder). The program fills each once.
TEST(OptionErrorText, AValueContainingAPlaceholderIsShownAsGiven) {
  double rate = 0;
  std::uint64_t rows = 0;
  pearl::JobSpec spec("x");
  spec.option("rate", &rate, 0.0, "a double");
  spec.option("rows", &rows, 1, "rows").at_least(1);
  EXPECT_EQ(error_of(spec, {"--rate", "x%value%y"}), "the argument ('x%value%y') for option '--rate' is invalid");
  EXPECT_EQ(error_of(spec, {"--rows", "%canonical_option%"}),
            "option '--rows': '%canonical_option%' is not a number (domain N>=1)");
  // Without placeholders in the values, the text is Boost's own.
  EXPECT_EQ(error_of(spec, {"--rate", "abc"}), "the argument ('abc') for option '--rate' is invalid");
  EXPECT_EQ(error_of(spec, {"--rate"}), "the required argument for option '--rate' is missing");
}

TEST(Options, EachKindOfDeclarationParsesAndShowsAsDeclared) {
  std::string by;
  std::string alpha;
  std::string sum;
  bool only = true;
  bool dense = false;
  std::vector<std::string> derive;
  double per = 0;
  int slot = 0;
  pearl::JobSpec spec("demo.kinds");
  spec.required("by", &by, "grouping columns").names();
  spec.option("alpha", &alpha, "", "level").shown_as("0.001 for C1");
  spec.option("sum", &sum, "", "columns to sum").names();
  spec.flag("only", &only, "a switch");
  spec.option("dense", &dense, true, "a bool");
  spec.repeated("derive", &derive, "repeatable");
  spec.option("per", &per, 1e5, "rates per").positive();
  spec.option("slot", &slot, 15, "minutes").in_range(1, 10080);
  ASSERT_EQ(spec.options().size(), 8U);

  parse(spec, {"--by", "a,b", "--derive", "x=1", "--derive", "y=x+1", "--per", "10"});
  EXPECT_EQ(by, "a,b");
  EXPECT_EQ(alpha, "");
  EXPECT_FALSE(only);  // a flag not given is false
  EXPECT_TRUE(dense);
  EXPECT_EQ(derive, (std::vector<std::string>{"x=1", "y=x+1"}));
  EXPECT_EQ(per, 10.0);
  EXPECT_EQ(slot, 15);
  parse(spec, {"--by", "a", "--only", "--dense", "false"});
  EXPECT_TRUE(only);
  EXPECT_FALSE(dense);

  EXPECT_NE(error_of(spec, {}).find("'--by' is required"), std::string::npos) << error_of(spec, {});
  EXPECT_NE(error_of(spec, {"--by", "a,a"}).find("'a' is given twice"), std::string::npos);
  EXPECT_NE(error_of(spec, {"--by", "a", "--sum", "v, v"}).find("--sum: 'v' is given twice"), std::string::npos);
  EXPECT_EQ(error_of(spec, {"--by", "a", "--per", "0"}), "option '--per': '0' is not allowed (domain X>0)");
  EXPECT_EQ(error_of(spec, {"--by", "a", "--slot", "10081"}), "option '--slot': '10081' is not allowed (domain 1..10080)");

  const std::string help = pearl::cluster::job_options_text(spec);
  for (const char* shown : {"demo.kinds options:", "--by arg ", "--alpha arg (=0.001 for C1)", "--only ",
                            "--dense arg (=true)", "--derive arg", "--per X>0 (=100000)", "--slot 1..10080 (=15)"}) {
    EXPECT_NE(help.find(shown), std::string::npos) << shown << " not in:\n" << help;
  }
  EXPECT_EQ(help.find("--by arg (="), std::string::npos) << help;  // required: no default shown
}

TEST(Options, SplitsAndTrimsLists) {
  EXPECT_EQ(pearl::split_list(" region, disease ,,year"), (std::vector<std::string>{"region", "disease", "year"}));
  EXPECT_TRUE(pearl::split_list("").empty());
}

TEST(Options, ChoicesKeepTheGivenOrderAndNameTheOption) {
  const std::vector<std::string> allowed{"region", "disease", "sex", "year"};
  EXPECT_EQ(pearl::parse_choices("by", "year,region", allowed), (std::vector<std::string>{"year", "region"}));
  try {
    pearl::parse_choices("by", "region,age", allowed);
    FAIL() << "an unknown item was accepted";
  } catch (const pearl::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--by"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'age'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pearl::parse_choices("by", "sex,sex", allowed), pearl::InputError);
  EXPECT_THROW(pearl::parse_choices("by", "", allowed), pearl::InputError);
  EXPECT_TRUE(pearl::parse_choices("by", "", allowed, true).empty());
}

TEST(Options, NumbersAreCheckedForCountAndForm) {
  EXPECT_EQ(pearl::parse_numbers("bounds", "113.6, 22.4,114.8,22.9", 4), (std::vector<double>{113.6, 22.4, 114.8, 22.9}));
  EXPECT_THROW(pearl::parse_numbers("bounds", "113.6,22.4,114.8", 4), pearl::InputError);
  EXPECT_THROW(pearl::parse_numbers("bounds", "113.6,22.4x,114.8,22.9", 4), pearl::InputError);
  EXPECT_THROW(pearl::parse_numbers("bounds", "nan,1,2,3", 4), pearl::InputError);
}

TEST(Region, LevelsTruncateTheCode) {
  EXPECT_EQ(pearl::region_at(pearl::RegionLevel::county, 440106), 440106u);
  EXPECT_EQ(pearl::region_at(pearl::RegionLevel::city, 440106), 440100u);
  EXPECT_EQ(pearl::region_at(pearl::RegionLevel::province, 440106), 440000u);
  EXPECT_EQ(pearl::region_at(pearl::RegionLevel::city, 441900), 441900u);  // Dongguan: no county level
}

TEST(Region, OptionDefaultsToCityAndRejectsOthers) {
  {
    pearl::JobSpec spec("x");
    pearl::RegionLevelOption level;
    level.declare(spec);
    parse(spec, {});
    EXPECT_EQ(level.parse(), pearl::RegionLevel::city);
  }
  pearl::JobSpec spec("x");
  pearl::RegionLevelOption level;
  level.declare(spec);
  parse(spec, {"--region-level", "district"});
  EXPECT_THROW((void)level.parse(), pearl::InputError);
}

TEST(Suppression, HidesCellsFromOneBelowTheThreshold) {
  pearl::JobSpec spec("x");
  pearl::SmallCellSuppression rule;
  rule.declare(spec, "cases");
  parse(spec, {});
  EXPECT_EQ(rule.min_cell(), 10);
  EXPECT_FALSE(rule.applies(0));  // an empty cell discloses nobody
  EXPECT_TRUE(rule.applies(1));
  EXPECT_TRUE(rule.applies(9));
  EXPECT_FALSE(rule.applies(10));
  EXPECT_EQ(pearl::SmallCellSuppression::count(7, true), -1);
  EXPECT_EQ(pearl::SmallCellSuppression::count(7, false), 7);
  EXPECT_TRUE(std::isnan(pearl::SmallCellSuppression::rate(0.5, true)));
  EXPECT_EQ(pearl::SmallCellSuppression::flag(true), 1);
}

TEST(Suppression, ZeroTurnsItOffAndNegativeIsRefused) {
  pearl::JobSpec spec("x");
  pearl::SmallCellSuppression rule;
  rule.declare(spec);
  parse(spec, {"--min-cell", "0"});
  EXPECT_FALSE(rule.applies(1));
  pearl::JobSpec bad_spec("x");
  pearl::SmallCellSuppression bad;
  bad.declare(bad_spec);
  // Refused where the command line is parsed (its declared domain), before any work.
  EXPECT_THROW(parse(bad_spec, {"--min-cell", "-1"}), pearl::InputError);
}

}  // namespace
