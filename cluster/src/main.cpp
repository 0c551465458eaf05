// The `pearl` program: decides whether it runs under MPI (launcher.hpp), owns MPI for its
// lifetime when it does, and hands the command line to run_cli.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/launcher.hpp"
#include "pearl/cluster/local_communicator.hpp"
#include "pearl/cluster/mpi_session.hpp"
#include "pearl/cluster/signals.hpp"
#include "pearl/core/error.hpp"
#include "process.hpp"

namespace {
/// Fixes glibc's malloc thresholds at the values its dynamic rule settles at (32 MiB
/// mmap threshold, trim at twice that). Left dynamic, the threshold follows the size of
/// the first mmapped block freed: a rank whose first input batch is short (its row range
/// starts mid-chunk) lowered it below a full batch, so every later batch was a fresh
/// mmap and page-faulted on first touch (bench/io: rank 1 of 2 spent a quarter of its
/// time there, and 2 ranks were slower than 1). Fixed values make every rank behave alike.
void tune_malloc() noexcept {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

/// The command line, run on `comm` (every rank, or the one rank alone).
int run_command_line(int argc, char** argv, pearl::Communicator& comm) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const int code = pearl::cluster::run_cli(args, comm, std::cout, std::cerr);
  std::cout.flush();
  return code;
}

/// Started without a launcher: one rank, no MPI (its start-up would cost more than most
/// commands take). There is no launcher to pass an exit code on, so none to work around.
int run_alone(int argc, char** argv) {
  pearl::cluster::remember_startup_environment();
  pearl::cluster::install_stop_handlers();
  pearl::cluster::LocalCommunicator alone;
  return run_command_line(argc, argv, alone);
}
}  // namespace

int main(int argc, char** argv) {
  tune_malloc();
  try {
    if (!pearl::cluster::mpi_needed([](const char* name) { return std::getenv(name); })) {
      return run_alone(argc, argv);
    }
    pearl::cluster::MpiSession mpi(argc, argv);
    pearl::cluster::install_stop_handlers();  // after MPI_Init: ours, not the MPI library's
    pearl::cluster::MpiCommunicator world = mpi.world();
    return pearl::cluster::MpiSession::finish(run_command_line(argc, argv, world));
  } catch (const pearl::InputError& e) {
    std::fprintf(stderr, "pearl: error: %s\n", e.what());  // PEARL_MPI's value
    return 2;
  } catch (const std::exception& e) {
    // Only failures of MPI itself reach here; the CLI reports everything else.
    std::fprintf(stderr, "pearl: fatal: %s\n", e.what());
    return 1;
  }
}
