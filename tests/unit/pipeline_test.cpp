// Pipeline files: parsing, variables, fan-out, the graph, and `pipeline check`'s errors
// (each with file, line and step). A fake job stands in for the built-in ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "pearl/cluster/pipeline.hpp"
#include "pearl/core/job.hpp"

namespace {

using pearl::cluster::pipeline::Pipeline;
using pearl::cluster::pipeline::Problems;

class FakeCount final : public pearl::Job {
 public:
  [[nodiscard]] std::string name() const override { return "test.count"; }
  [[nodiscard]] std::string summary() const override { return "a job for pipeline tests"; }
  void declare(pearl::JobSpec& spec) override {
    spec.input("table", "any table");
    spec.option("by", &by_, "region", "key");
    spec.option("level", &level_, 1, "a number");
    spec.output("counts", "one row per key");
  }
  void run(pearl::JobContext&) override {}

 private:
  std::string by_;
  int level_ = 1;
};
PEARL_REGISTER_JOB(FakeCount);

const std::string kFile = "test.pipeline";

Pipeline parse_and_link(const std::string& text, const std::map<std::string, std::string>& set = {}) {
  auto p = pearl::cluster::pipeline::parse(text, kFile, set);
  pearl::cluster::pipeline::link(p);
  pearl::cluster::pipeline::check_jobs(p, p.problems);
  return p;
}

/// The one problem of `p`, formatted; fails the test if there is not exactly one.
std::string only_problem(const Pipeline& p) {
  EXPECT_EQ(p.problems.size(), 1U) << pearl::cluster::pipeline::format(p, p.problems);
  return pearl::cluster::pipeline::format(p, p.problems);
}

// Two steps reading a file nobody makes would be a missing producer; this one exists.
const std::string kHead =
    "[variables]\n"
    "out = /nonexistent-pearl-test/out\n"
    "[defaults]\n"
    "tasks = 2\n";
const std::string kSource = "input = table=/proc/self/status\n";

TEST(Pipeline, ParsesStepsVariablesResourcesAndImpliedDependencies) {
  const auto p = parse_and_link(kHead +
                                "[step first]\n"
                                "job = test.count\n" + kSource +
                                "output = ${out}/first-${date}.h5\n"
                                "options = --by region\n"
                                "  --level 3   # continued\n"
                                "nodes = 2\n"
                                "[step second]\n"
                                "job = test.count\n"
                                "input = table=${out}/first-*.h5:/counts\n"
                                "output = ${out}/second.h5\n"
                                "retries = 3\n",
                                {{"date", "2023-12-31"}});
  ASSERT_TRUE(p.problems.empty()) << pearl::cluster::pipeline::format(p, p.problems);
  ASSERT_EQ(p.steps.size(), 2U);
  const auto& first = p.steps[0];
  EXPECT_EQ(first.tasks.at(0).output, "/nonexistent-pearl-test/out/first-2023-12-31.h5");
  EXPECT_EQ(first.tasks.at(0).options, (std::vector<std::string>{"--by", "region", "--level", "3"}));
  EXPECT_EQ(first.resources.nodes, 2);
  EXPECT_EQ(first.resources.tasks, 2);  // from [defaults]
  EXPECT_EQ(first.retries, 1);          // the default
  EXPECT_EQ(p.steps[1].retries, 3);
  EXPECT_EQ(p.steps[1].needs, (std::vector<std::string>{"first"}));  // its input is first's output
  ASSERT_EQ(p.order.size(), 2U);
  EXPECT_EQ(p.order[0]->name, "first");
  EXPECT_EQ(p.downstream("first").size(), 1U);
}

TEST(Pipeline, FanOutMakesOneTaskPerValueWithTheValueInOptionsAndOutput) {
  const auto p = parse_and_link(kHead +
                                "[step per]\n"
                                "job = test.count\n" + kSource +
                                "for_each = level: 1 2 3\n"
                                "options = --level ${level}\n"
                                "output = ${out}/per-${level}.h5\n"
                                "[step all]\n"
                                "job = test.count\n"
                                "input = table=${out}/per-*.h5\n"
                                "output = ${out}/all.h5\n");
  ASSERT_TRUE(p.problems.empty()) << pearl::cluster::pipeline::format(p, p.problems);
  const auto& per = p.steps[0];
  ASSERT_EQ(per.tasks.size(), 3U);
  EXPECT_EQ(per.tasks[2].value, "3");
  EXPECT_EQ(per.tasks[2].options, (std::vector<std::string>{"--level", "3"}));
  EXPECT_EQ(per.tasks[2].output, "/nonexistent-pearl-test/out/per-3.h5");
  EXPECT_EQ(p.steps[1].needs, (std::vector<std::string>{"per"}));
}

TEST(PipelineCheck, RejectsACycleNamingFileLineAndStep) {
  const auto p = parse_and_link(kHead +
                                "[step a]\njob = test.count\n" + kSource + "output = ${out}/a.h5\nafter = b\n" +
                                "[step b]\njob = test.count\n" + "input = table=${out}/a.h5\noutput = ${out}/b.h5\n");
  const std::string text = only_problem(p);
  EXPECT_NE(text.find("dependency cycle"), std::string::npos) << text;
  EXPECT_NE(text.find("test.pipeline:10: step 'b': dependency cycle: a -> b -> a"), std::string::npos) << text;
}

TEST(PipelineCheck, RejectsAMissingProducer) {
  const auto p = parse_and_link(kHead + "[step a]\njob = test.count\n" +
                                "input = table=${out}/nobody-makes-*.h5\noutput = ${out}/a.h5\n");
  const std::string text = only_problem(p);
  EXPECT_NE(text.find("test.pipeline:7: step 'a': input 'table=/nonexistent-pearl-test/out/nobody-makes-*.h5'"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("no step's output"), std::string::npos) << text;
}

TEST(PipelineCheck, RejectsAnUnknownJobOnItsLine) {
  const auto p = parse_and_link(kHead + "[step a]\njob = test.cuont\n" + kSource + "output = ${out}/a.h5\n");
  const std::string text = only_problem(p);
  EXPECT_NE(text.find("test.pipeline:6: step 'a': unknown job 'test.cuont'; did you mean 'test.count'?"),
            std::string::npos)
      << text;
}

TEST(PipelineCheck, RejectsAnUnknownOptionOnItsLine) {
  const auto p = parse_and_link(kHead + "[step a]\njob = test.count\n" + kSource +
                                "output = ${out}/a.h5\noptions = --levle 2\n");
  const std::string text = only_problem(p);
  EXPECT_NE(text.find("test.pipeline:9: step 'a': unknown option '--levle'"), std::string::npos) << text;
  EXPECT_NE(text.find("did you mean '--level'?"), std::string::npos) << text;
}

TEST(PipelineCheck, RejectsABadOptionValueAndAMissingOutput) {
  auto p = parse_and_link(kHead + "[step a]\njob = test.count\n" + kSource + "options = --level many\n");
  const std::string text = pearl::cluster::pipeline::format(p, p.problems);
  EXPECT_NE(text.find("test.pipeline:8: step 'a'"), std::string::npos) << text;
  EXPECT_NE(text.find("many"), std::string::npos) << text;
  p = parse_and_link(kHead + "[step a]\njob = test.count\n" + kSource);
  EXPECT_NE(only_problem(p).find("test.count needs 'output = FILE.h5'"), std::string::npos);
}

TEST(PipelineCheck, RejectsAnUndefinedVariableUnlessSet) {
  const std::string text = kHead + "[step a]\njob = test.count\n" + kSource + "output = ${out}/${region}.h5\n";
  const std::string problem = only_problem(parse_and_link(text));
  EXPECT_NE(problem.find("test.pipeline:8: step 'a': undefined variable ${region}"), std::string::npos) << problem;
  EXPECT_TRUE(parse_and_link(text, {{"region", "440100"}}).problems.empty());
}

TEST(PipelineCheck, RejectsUnknownKeysSectionsAndAfterTargets) {
  auto p = parse_and_link(kHead + "[step a]\njob = test.count\n" + kSource + "output = ${out}/a.h5\nafter = zz\n");
  EXPECT_NE(only_problem(p).find("test.pipeline:9: step 'a': after = zz: no step of that name"), std::string::npos);
  p = parse_and_link(kHead + "[step a]\njob = test.count\n" + kSource + "output = ${out}/a.h5\nnodez = 2\n");
  EXPECT_NE(only_problem(p).find("test.pipeline:9: step 'a': unknown key 'nodez'"), std::string::npos);
  p = parse_and_link(kHead + "[stpe a]\n");
  EXPECT_FALSE(p.problems.empty());
}

TEST(Pipeline, SplitsWordsWithQuotes) {
  EXPECT_EQ(pearl::cluster::pipeline::split_words(" a 'b c'  \"d\"e "), (std::vector<std::string>{"a", "b c", "de"}));
}

}  // namespace
