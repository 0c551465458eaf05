// The `pearl` program: owns MPI for its lifetime and hands the command line to run_cli.
#include <cstdio>
#include <exception>
#include <iostream>

#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/mpi_session.hpp"

int main(int argc, char** argv) {
  try {
    pearl::cluster::MpiSession mpi(argc, argv);
    pearl::cluster::MpiCommunicator world = mpi.world();
    const std::vector<std::string> args(argv + 1, argv + argc);
    const int code = pearl::cluster::run_cli(args, world, std::cout, std::cerr);
    std::cout.flush();
    return code;
  } catch (const std::exception& e) {
    // Only failures of MPI itself reach here; the CLI reports everything else.
    std::fprintf(stderr, "pearl: fatal: %s\n", e.what());
    return 1;
  }
}
