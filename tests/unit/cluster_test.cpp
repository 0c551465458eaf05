// Unit tests of cluster's pieces that need no launcher: simulated ranks, agreement, CLI,
// and the launcher detection that decides whether `pearl` initialises MPI.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/launcher.hpp"
#include "pearl/cluster/local_communicator.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"
#include "test_world.hpp"

namespace pearl::cluster {
namespace {

TEST(LocalCommunicator, AlltoallvDeliversEveryRanksBytesInRankOrder) {
  for (int n : {1, 2, 3, 5}) {
    run_local(n, [n](Communicator& comm) {
      // Rank r sends d+1 bytes of value r to each destination d.
      std::vector<std::byte> send;
      std::vector<std::size_t> counts;
      for (int d = 0; d < n; ++d) {
        counts.push_back(static_cast<std::size_t>(d + 1));
        for (int i = 0; i <= d; ++i) send.push_back(static_cast<std::byte>(comm.rank()));
      }
      std::vector<std::byte> recv;
      std::vector<std::size_t> recv_counts;
      comm.alltoallv(send, counts, recv, recv_counts);
      ASSERT_EQ(recv.size(), static_cast<std::size_t>(n * (comm.rank() + 1)));
      for (int r = 0; r < n; ++r) {
        EXPECT_EQ(recv_counts[static_cast<std::size_t>(r)], static_cast<std::size_t>(comm.rank() + 1));
        EXPECT_EQ(recv[static_cast<std::size_t>(r * (comm.rank() + 1))], static_cast<std::byte>(r));
      }
    });
  }
}

TEST(LocalCommunicator, ARankLeavingEarlyReleasesTheOthers) {
  EXPECT_THROW(run_local(3,
                         [](Communicator& comm) {
                           if (comm.rank() == 1) throw InputError("rank 1 broke");
                           comm.barrier();
                           comm.barrier();
                         }),
               InputError);
}

TEST(LocalCommunicator, OneRankAloneIsAWorldOfOne) {
  LocalCommunicator alone;
  EXPECT_EQ(alone.rank(), 0);
  EXPECT_EQ(alone.size(), 1);
  EXPECT_EQ(alone.mpi_comm(), nullptr);  // so the writer takes its serial path
  std::vector<std::byte> mine{std::byte{7}, std::byte{9}};
  std::vector<std::vector<std::byte>> all;
  alone.allgather(mine, all);
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0], mine);
  std::int64_t v = 5;
  alone.allreduce(std::span(&v, 1), ReduceOp::sum);
  EXPECT_EQ(v, 5);
}

/// mpi_needed over a made-up environment.
bool needed(const std::map<std::string, std::string>& vars) {
  return mpi_needed([&vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(Launcher, EveryLaunchersVariablesMeanMpi) {
  EXPECT_FALSE(needed({}));
  EXPECT_FALSE(needed({{"PEARL_MPI", "auto"}, {"HOME", "/root"}}));
  // What each launcher sets (checked with mpirun, mpiexec.hydra, srun --mpi=none|pmi2|pmix).
  EXPECT_TRUE(needed({{"OMPI_COMM_WORLD_SIZE", "1"}, {"OMPI_COMM_WORLD_RANK", "0"}, {"PMIX_RANK", "0"}}));
  EXPECT_TRUE(needed({{"OMPI_COMM_WORLD_SIZE", "1"}}));
  EXPECT_TRUE(needed({{"PMI_RANK", "0"}, {"PMI_SIZE", "1"}, {"PMI_FD", "6"}, {"MPI_LOCALNRANKS", "1"}}));
  for (const char* one : {"PMI_RANK", "PMI_SIZE", "PMI_FD", "PMI_PORT", "PMIX_RANK", "MPI_LOCALNRANKS", "PMI_ID",
                          "MV2_COMM_WORLD_RANK", "ALPS_APP_PE", "PALS_RANKID", "OMPI_COMM_WORLD_RANK"}) {
    EXPECT_TRUE(needed({{one, "0"}})) << one;
  }
  EXPECT_TRUE(needed({{"SLURM_STEP_ID", "0"}, {"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}}));  // srun --mpi=none
  // A batch script's own shell (SLURM_PROCID, no step) or salloc's: no launcher.
  EXPECT_FALSE(needed({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"SLURM_JOB_ID", "4"}}));
  EXPECT_FALSE(needed({{"SLURM_JOB_ID", "4"}, {"SLURM_STEP_ID", ""}, {"SLURM_PROCID", "0"}}));
  EXPECT_FALSE(needed({{"PMI_RANK", ""}}));  // set but empty: not a launcher's
}

TEST(Launcher, PearlMpiForcesMpiOrIsRefused) {
  EXPECT_TRUE(needed({{"PEARL_MPI", "always"}}));
  EXPECT_TRUE(needed({{"PEARL_MPI", "auto"}, {"PMIX_RANK", "0"}}));
  EXPECT_FALSE(needed({{"PEARL_MPI", ""}}));
  try {
    (void)needed({{"PEARL_MPI", "never"}});
    ADD_FAILURE() << "PEARL_MPI=never was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("PEARL_MPI=never"), std::string::npos) << e.what();
  }
}

TEST(Agreement, EveryRankLearnsTheLowestFailure) {
  run_local(4, [](Communicator& comm) {
    std::exception_ptr mine;
    if (comm.rank() >= 2) mine = std::make_exception_ptr(InputError("bad shard on rank " + std::to_string(comm.rank())));
    try {
      agree_on_failure(comm, mine);
      ADD_FAILURE() << "no exception";
    } catch (const RemoteError& e) {
      EXPECT_EQ(e.failed_rank(), 2);
      EXPECT_EQ(std::string(e.what()), "bad shard on rank 2");
      EXPECT_EQ(e.exit_code(), ExitCode::usage_or_input);
    } catch (const InputError& e) {
      EXPECT_EQ(comm.rank(), 2);
    }
    agree_on_failure(comm, nullptr);  // and the group is still usable afterwards
  });
}

TEST(Suggest, FindsTyposAndAbbreviations) {
  EXPECT_EQ(closest_match("memroy", {"memory", "threads", "scratch"}), "memory");
  EXPECT_EQ(closest_match("thread", {"memory", "threads"}), "threads");
  EXPECT_EQ(closest_match("xyzzy", {"memory", "threads"}), "");
}

struct Cli {
  int code;
  std::string out;
  std::string err;
};
Cli cli(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = run_cli(args, pearl::testing::world(), out, err);
  return {code, out.str(), err.str()};
}

// A job known to this test program only, so that `pearl jobs` has something to list.
class ListedJob final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "test.listed"; }
  [[nodiscard]] std::string summary() const override { return "a job the CLI test expects in the list"; }
  void declare(JobSpec& /*spec*/) override {}
  void run(JobContext& /*ctx*/) override {}
};
PEARL_REGISTER_JOB(ListedJob);

TEST(Cli, UsageVersionAndJobs) {
  const auto version = cli({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out, "pearl " + std::string(PEARL_EXPECTED_VERSION) + "\n");
  EXPECT_EQ(version.err, "");

  const auto help = cli({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_EQ(help.out.rfind("usage: pearl ", 0), 0U) << help.out;
  for (const char* command : {"jobs", "describe JOB", "inspect FILE", "run JOB"}) {
    EXPECT_NE(help.out.find(command), std::string::npos) << "--help does not list '" << command << "':\n" << help.out;
  }
  EXPECT_NE(help.out.find("exit codes: 0 success, 1 failure, 2 usage or input error"), std::string::npos) << help.out;

  // No command: the usage text, and exit 2 with a message saying what is missing.
  const auto none = cli({});
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(none.out, help.out);
  EXPECT_NE(none.err.find("no command given"), std::string::npos) << none.err;

  const auto jobs = cli({"jobs"});
  EXPECT_EQ(jobs.code, 0);
  // One line per job: its name, then (after padding to the longest name) its summary.
  std::istringstream lines(jobs.out);
  bool listed = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  test.listed ", 0) != 0) continue;
    listed = line.size() > 40 && line.substr(line.size() - 38) == "a job the CLI test expects in the list";
  }
  EXPECT_TRUE(listed) << "'pearl jobs' does not list test.listed with its summary:\n" << jobs.out;
  EXPECT_EQ(jobs.err, "");
}

TEST(Cli, UnknownThingsAreRejectedWithASuggestion) {
  const auto cmd = cli({"jbos"});
  EXPECT_EQ(cmd.code, 2);
  EXPECT_NE(cmd.err.find("did you mean 'jobs'"), std::string::npos) << cmd.err;
  const auto job = cli({"run", "no.such.job"});
  EXPECT_EQ(job.code, 2);
  EXPECT_NE(job.err.find("unknown job 'no.such.job'"), std::string::npos) << job.err;
}

}  // namespace
}  // namespace pearl::cluster
