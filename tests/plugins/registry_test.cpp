// JobRegistry's plugin staging: what the plugin loader relies on, without loading a library.
#include <gtest/gtest.h>

#include <sstream>

#include "pearl/cluster/cli.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"
#include "test_world.hpp"

namespace {

class Named final : public pearl::Job {
 public:
  explicit Named(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::string summary() const override { return "job of " + name_; }
  void declare(pearl::JobSpec&) override {}
  void run(pearl::JobContext&) override {}

 private:
  std::string name_;
};

pearl::JobRegistry::Factory make(const std::string& name) {
  return [name] { return std::make_unique<Named>(name); };
}

TEST(JobRegistry, StagedJobsAppearOnlyWhenCommitted) {
  auto& r = pearl::JobRegistry::instance();
  r.begin_plugin("/plugins/a.so");
  r.add(make("regtest.a1"));
  r.add(make("regtest.a2"));
  EXPECT_EQ(r.find("regtest.a1"), nullptr);
  EXPECT_EQ(r.commit_plugin(), 2u);
  ASSERT_NE(r.find("regtest.a1"), nullptr);
  EXPECT_EQ(r.find("regtest.a2")->origin, "/plugins/a.so");
  EXPECT_EQ(r.find("regtest.a2")->summary, "job of regtest.a2");
}

TEST(JobRegistry, DiscardedJobsNeverAppear) {
  auto& r = pearl::JobRegistry::instance();
  r.begin_plugin("/plugins/b.so");
  r.add(make("regtest.b"));
  r.discard_plugin();
  EXPECT_EQ(r.find("regtest.b"), nullptr);
  r.add(make("regtest.b_builtin"));  // staging ended: registered at once
  ASSERT_NE(r.find("regtest.b_builtin"), nullptr);
  EXPECT_EQ(r.find("regtest.b_builtin")->origin, "built-in");
}

TEST(JobRegistry, ATakenNameRefusesThePluginNamingBothOwners) {
  auto& r = pearl::JobRegistry::instance();
  r.add(make("regtest.taken"));
  r.begin_plugin("/plugins/c.so");
  r.add(make("regtest.c_ok"));
  r.add(make("regtest.taken"));
  try {
    r.commit_plugin();
    FAIL() << "expected InputError";
  } catch (const pearl::InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/plugins/c.so"), std::string::npos) << what;
    EXPECT_NE(what.find("'regtest.taken' is already taken by a built-in job"), std::string::npos) << what;
  }
  EXPECT_EQ(r.find("regtest.c_ok"), nullptr);  // all or nothing

  r.begin_plugin("/plugins/d.so");
  r.add(make("regtest.d"));
  r.add(make("regtest.d"));
  EXPECT_THROW(r.commit_plugin(), pearl::InputError);
  EXPECT_EQ(r.find("regtest.d"), nullptr);
}

TEST(JobSpec, DeclaresInputsOptionsAndOutputs) {
  pearl::JobSpec spec("x.y");
  spec.input("any", "columns chosen at run time");
  spec.input("cases", "cases", {{"region_code", pearl::DType::u32}}, false);
  EXPECT_FALSE(spec.has_output());
  spec.output("result", "r", {{"k", pearl::DType::i64}});
  EXPECT_TRUE(spec.has_output());
  ASSERT_NE(spec.find_input("cases"), nullptr);
  EXPECT_FALSE(spec.find_input("cases")->required);
  EXPECT_TRUE(spec.find_input("any")->columns.empty());
  EXPECT_EQ(spec.find_input("cases")->columns.front().type, pearl::DType::u32);
  EXPECT_EQ(spec.find_output("result")->columns.size(), 1u);
  EXPECT_EQ(spec.find_output("nope"), nullptr);
}

class Described final : public pearl::Job {
 public:
  std::string name() const override { return "regtest.described"; }
  std::string summary() const override { return "a job to describe"; }
  void declare(pearl::JobSpec& spec) override {
    spec.input("cases", "reported cases", {{"region_code", pearl::DType::u32}, {"age_years", pearl::DType::u8}});
    spec.input("extra", "anything", false);
    spec.option("standard", &standard_, "who2000", "weights");
    spec.output("incidence", "rates per region", {{"region_code", pearl::DType::u32}, {"rate", pearl::DType::f64}});
  }
  void run(pearl::JobContext&) override {}

 private:
  std::string standard_;
};
PEARL_REGISTER_JOB(Described);

TEST(Describe, ShowsInputsColumnsOptionsAndOutputs) {
  std::ostringstream out, err;
  ASSERT_EQ(pearl::cluster::run_cli({"describe", "regtest.described"}, pearl::testing::world(), out, err), 0)
      << err.str();
  const std::string text = out.str();
  for (const char* expected : {"regtest.described: a job to describe", "cases (required): reported cases",
                               "--input cases=GLOB", "region_code  uint32", "age_years    uint8",
                               "extra (optional)", "columns: chosen by the options", "--standard arg (=who2000)",
                               "--output FILE.h5 (required)", "table incidence: rates per region",
                               "rate         float64"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing '" << expected << "' in:\n" << text;
  }
  std::ostringstream out2, err2;
  EXPECT_EQ(pearl::cluster::run_cli({"describe", "regtest.describd"}, pearl::testing::world(), out2, err2), 2);
  EXPECT_NE(err2.str().find("did you mean 'regtest.described'"), std::string::npos) << err2.str();
}

}  // namespace
