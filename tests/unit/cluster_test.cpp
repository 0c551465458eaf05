// Unit tests of cluster's pieces that need no launcher: simulated ranks, agreement, CLI.
#include <gtest/gtest.h>

#include <sstream>

#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/local_communicator.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/error.hpp"
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

TEST(Cli, UsageVersionAndJobs) {
  EXPECT_EQ(cli({"--version"}).code, 0);
  EXPECT_NE(cli({"--version"}).out.find("pearl "), std::string::npos);
  EXPECT_EQ(cli({"--help"}).code, 0);
  EXPECT_EQ(cli({}).code, 2);
  const auto jobs = cli({"jobs"});
  EXPECT_EQ(jobs.code, 0);
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
