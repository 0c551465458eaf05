// Unit tests of site profiles (parsing, overrides, errors with file:line) and of the
// batch script a Scheduler renders (the parts pipelines rely on: dependencies, arrays
// with per-task values, begin time), without a cluster.
#include <gtest/gtest.h>

#include <cstdlib>

#include "pearl/cluster/profile.hpp"
#include "pearl/cluster/scheduler.hpp"
#include "pearl/core/error.hpp"

namespace pearl::cluster {
namespace {

class Profiles : public ::testing::Test {
 protected:
  void SetUp() override { setenv("PEARL_SHARE_DIR", PEARL_TEST_SHARE_DIR, 1); }
};

TEST_F(Profiles, SlurmTimeLimits) {
  EXPECT_EQ(parse_slurm_time("90"), 90 * 60);
  EXPECT_EQ(parse_slurm_time("5:30"), 5 * 60 + 30);
  EXPECT_EQ(parse_slurm_time("01:00:00"), 3600);
  EXPECT_EQ(parse_slurm_time("1-00:00:00"), 86400);
  EXPECT_EQ(parse_slurm_time("2-3"), 2 * 86400 + 3 * 3600);
  EXPECT_EQ(parse_slurm_time("1-2:30"), 86400 + 2 * 3600 + 30 * 60);
  EXPECT_EQ(parse_slurm_time("soon"), -1);
  EXPECT_EQ(parse_slurm_time(""), -1);
  EXPECT_EQ(parse_slurm_time("1:2:3:4"), -1);
}

TEST_F(Profiles, FieldsOverrideTheBaseAndRememberWhereTheyWereSet) {
  const Profile base = parse_profile("submit = yhbatch sbatch\nsetup = a\nsetup = b\nenv = X=1\n", "base", Profile{});
  const Profile p = parse_profile("# mine\npartition = big\nsetup = c\nenv = X=2\nenv = Y = 3\n", "mine", base);
  EXPECT_EQ(p.submit, (std::vector<std::string>{"yhbatch", "sbatch"}));
  EXPECT_EQ(p.partition, "big");
  EXPECT_EQ(p.setup, std::vector<std::string>{"c"});  // a profile's first setup line replaces the base's
  EXPECT_EQ(p.environment, (std::vector<std::pair<std::string, std::string>>{{"X", "2"}, {"Y", "3"}}));
  EXPECT_EQ(p.origin_of("partition"), "mine:2");
  EXPECT_EQ(p.origin_of("submit"), "base:1");
  EXPECT_EQ(p.origin_of("env X"), "mine:4");
  EXPECT_EQ(p.origin_of("account"), "built-in default");
}

TEST_F(Profiles, BadLinesAreInputErrorsNamingFileAndLine) {
  auto message = [](const std::string& text) {
    try {
      parse_profile(text, "f", Profile{});
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("\nlauncer = srun\n"), "f:2: unknown key 'launcer'; did you mean 'launcher'?");
  EXPECT_EQ(message("exclusive = 1\n"), "f:1: exclusive = '1': expected true or false");
  EXPECT_EQ(message("signal = KILL\n"), "f:1: signal = 'KILL': expected USR1 or TERM (pearl checkpoints on either)");
  EXPECT_EQ(message("signal-seconds = 70000\n"), "f:1: signal-seconds = '70000': expected a whole number from 0 to 65535");
  EXPECT_EQ(message("submit =\n"), "f:1: submit = '': expected one or more command names");
  EXPECT_EQ(message("env = 1X=2\n"), "f:1: env = '1X=2': expected NAME=VALUE");
  EXPECT_EQ(message("scheduler = lsf\n"), "f:1: scheduler = 'lsf': expected slurm or none");
  EXPECT_EQ(message("partition-flag = -P\n"), "f:1: partition-flag = '-P': expected -p or --partition");
}

TEST_F(Profiles, ShippedProfilesLoadAndUnknownOnesAreRefused) {
  for (const auto& [name, path] : list_profiles()) EXPECT_NO_THROW(load_profile(name)) << name;
  EXPECT_EQ(load_profile("tianhe2").launcher, (std::vector<std::string>{"yhrun", "srun"}));
  EXPECT_THROW(load_profile("tianhe9"), InputError);
}

TEST_F(Profiles, PipelineFieldsReachTheScript) {
  BatchRequest r;
  r.profile = load_profile("slurm");
  r.job_name = "step";
  r.log_dir = "/tmp/pearl-logs";
  r.pearl_program = "/opt/pearl/bin/pearl";
  r.command = {"table.aggregate", "--output", "out-{task}.h5", "--where", "it's"};
  r.dependencies = {"11", "12"};
  r.array_values = {"2024-01", "2024-02"};
  r.begin = "02:00";
  const std::string s = make_scheduler(r.profile)->render(r);
  EXPECT_NE(s.find("#SBATCH --dependency=afterok:11:12\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --array=0-1\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --begin=02:00\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --output=/tmp/pearl-logs/step-%A_%a.log\n"), std::string::npos);
  EXPECT_NE(s.find("values=(2024-01 2024-02)\n"), std::string::npos);
  EXPECT_NE(s.find("--output out-\"${task_value}\".h5 --where 'it'\\''s'"), std::string::npos);
  EXPECT_NE(s.find("pearl=/opt/pearl/bin/pearl\n"), std::string::npos);
}

TEST_F(Profiles, RequestsAreCheckedBeforeRendering) {
  BatchRequest r;
  r.profile = load_profile("tianhe2");
  r.command = {"demo.sum"};
  EXPECT_THROW(make_scheduler(r.profile)->render(r), InputError);  // -p required
  r.partition = "work";
  EXPECT_NE(make_scheduler(r.profile)->render(r).find("#SBATCH --ntasks-per-node=24\n"), std::string::npos);
  r.time = "later";
  EXPECT_THROW(make_scheduler(r.profile)->render(r), InputError);
}

}  // namespace
}  // namespace pearl::cluster
