// tests/support/mpi_test_main.cpp — GoogleTest's main for programs that may run under mpirun.
//
// Every rank runs every test. Only rank 0 prints GoogleTest's usual output; every rank
// records its failures, and at the end rank 0 prints all of them tagged with the rank.
// The exit status is non-zero if any rank failed. (After LAMMPS' test_mpi_main.h.)
#include <gtest/gtest.h>
#include <mpi.h>

#include <memory>
#include <sstream>
#include <string>

#include "pearl/cluster/local_communicator.hpp"
#include "pearl/cluster/mpi_session.hpp"
#include "test_world.hpp"

namespace pearl::testing {
namespace {
std::unique_ptr<cluster::MpiCommunicator> g_world;

class FailureRecorder : public ::testing::EmptyTestEventListener {
 public:
  // The name is taken here: asking UnitTest::current_test_info() from OnTestPartResult
  // would take a lock GoogleTest already holds there, and deadlock on the first failure.
  void OnTestStart(const ::testing::TestInfo& info) override {
    current_ = std::string(info.test_suite_name()) + "." + info.name();
  }
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::ostringstream s;
    s << current_ << " at "
      << (r.file_name() != nullptr ? r.file_name() : "?") << ':' << r.line_number() << ": " << r.summary() << '\n';
    text += s.str();
  }
  std::string text;

 private:
  std::string current_ = "?";
};
}  // namespace

Communicator& world() { return *g_world; }

void on_every_layout(const std::function<void(Communicator&)>& body) {
  if (world().size() > 1) {
    body(world());
    return;
  }
  for (int n : simulated_ranks) {
    SCOPED_TRACE("simulated ranks: " + std::to_string(n));
    cluster::run_local(n, body);
  }
}

}  // namespace pearl::testing

int main(int argc, char** argv) {
  pearl::cluster::MpiSession mpi(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  pearl::testing::g_world = std::make_unique<pearl::cluster::MpiCommunicator>(mpi.world());
  auto& world = *pearl::testing::g_world;

  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  if (world.rank() != 0) delete listeners.Release(listeners.default_result_printer());
  auto* recorder = new pearl::testing::FailureRecorder;  // owned by GoogleTest
  listeners.Append(recorder);

  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;

  // Collect every rank's failures on rank 0, tagged with the rank.
  std::string mine = recorder->text;
  std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(mine.data()),
                               reinterpret_cast<const std::byte*>(mine.data() + mine.size()));
  std::vector<std::vector<std::byte>> all;
  world.allgather(bytes, all);
  std::int64_t any = failed;
  world.allreduce(std::span<std::int64_t>(&any, 1), pearl::ReduceOp::max);
  if (world.rank() == 0 && world.size() > 1 && any != 0) {
    std::fprintf(stderr, "\n[ MPI ] failures by rank:\n");
    for (std::size_t r = 0; r < all.size(); ++r) {
      std::string text(reinterpret_cast<const char*>(all[r].data()), all[r].size());
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) std::fprintf(stderr, "[rank %zu] %s\n", r, line.c_str());
      }
    }
  }
  pearl::testing::g_world.reset();
  return static_cast<int>(any);
}
