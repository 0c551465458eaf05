// The shared pieces every analytics job uses for its options: list parsing, region
// grouping and small-cell suppression (one implementation, so the rules cannot drift).
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <vector>

#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"
#include "pearl/core/options.hpp"
#include "pearl/core/region.hpp"
#include "pearl/core/suppression.hpp"

namespace {

// Parses `args` into a spec's options as the runner does.
void parse(pearl::JobSpec& spec, std::vector<const char*> args) {
  args.insert(args.begin(), "pearl");
  pearl::po::variables_map vm;
  pearl::po::store(pearl::po::parse_command_line(static_cast<int>(args.size()), args.data(), spec.options()), vm);
  pearl::po::notify(vm);
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
  EXPECT_THROW(parse(bad_spec, {"--min-cell", "-1"}), pearl::po::error);
}

}  // namespace
