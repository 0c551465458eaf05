// tests/support/mpi_test_main.cpp — GoogleTest's main for programs that may run under mpirun.
//
// Every rank runs every test. Only rank 0 prints GoogleTest's usual output; every rank
// records its failures, and at the end rank 0 prints all of them tagged with the rank.
// The exit status is non-zero if any rank failed. (After LAMMPS' test_mpi_main.h.)
// It also counts each thread's failures, for `any_rank_failed` (test_world.hpp): under
// mpirun a rank is the main thread, on simulated ranks a rank is a thread of run_local.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <sstream>
#include <string>

#include "pearl/cluster/local_communicator.hpp"
#include "pearl/cluster/mpi_session.hpp"
#include "test_world.hpp"

namespace pearl::testing {
namespace {
std::unique_ptr<cluster::MpiCommunicator> g_world;

// This thread's failed assertions in the current test; the count when the current
// on_every_layout body began; whether the ranks of that body agreed on a failure.
thread_local std::int64_t t_failures = 0;
thread_local std::int64_t t_body_start = 0;
thread_local bool t_agreed = false;

class FailureRecorder : public ::testing::EmptyTestEventListener {
 public:
  // The name is taken here: asking UnitTest::current_test_info() from OnTestPartResult
  // would take a lock GoogleTest already holds there, and deadlock on the first failure.
  void OnTestStart(const ::testing::TestInfo& info) override {
    current_ = std::string(info.test_suite_name()) + "." + info.name();
    t_failures = 0;
    t_body_start = 0;
    t_agreed = false;
  }
  // Called on the thread that failed (simulated ranks fail on their own threads).
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    ++t_failures;
    std::ostringstream s;
    s << current_ << " at "
      << (r.file_name() != nullptr ? r.file_name() : "?") << ':' << r.line_number() << ": " << r.summary() << '\n';
    const std::lock_guard lock(mutex_);
    text_ += s.str();
  }
  [[nodiscard]] std::string text() const {
    const std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  std::string current_ = "?";
  mutable std::mutex mutex_;
  std::string text_;
};

// One body on one rank: its failures count from here; an exception that escapes it is
// that rank's failure; at the end the ranks agree (where an early leaver meets the others).
void run_body(const std::function<void(Communicator&)>& body, Communicator& comm) {
  const std::int64_t outer_start = t_body_start;
  const bool outer_agreed = t_agreed;
  t_body_start = t_failures;
  t_agreed = false;
  try {
    body(comm);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "rank " << comm.rank() << " of " << comm.size() << ": exception: " << e.what();
  } catch (...) {
    ADD_FAILURE() << "rank " << comm.rank() << " of " << comm.size() << ": unknown exception";
  }
  (void)any_rank_failed(comm);
  t_body_start = outer_start;
  t_agreed = outer_agreed;
}
}  // namespace

Communicator& world() { return *g_world; }

bool any_rank_failed(Communicator& comm) {
  if (t_agreed) return true;  // every rank returned at the same agreement: no more traffic
  const bool mine = t_failures > t_body_start;
  // The lowest failing rank r travels as size - r, so that max finds it.
  std::int64_t lowest = mine ? comm.size() - comm.rank() : 0;
  comm.allreduce(std::span<std::int64_t>(&lowest, 1), ReduceOp::max);
  if (lowest == 0) return false;
  t_agreed = true;
  if (!mine) {
    ADD_FAILURE() << "rank " << comm.size() - lowest << " of " << comm.size()
                  << " failed (see its messages); rank " << comm.rank() << " stops with it";
  }
  return true;
}

void on_every_layout(const std::function<void(Communicator&)>& body) {
  if (world().size() > 1) {
    run_body(body, world());
    return;
  }
  for (int n : simulated_ranks) {
    SCOPED_TRACE("simulated ranks: " + std::to_string(n));
    cluster::run_local(n, [&body](Communicator& comm) { run_body(body, comm); });
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
  std::string mine = recorder->text();
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
