#include "pearl/cluster/mpi_session.hpp"

#include <mpi.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "pearl/core/error.hpp"
#include "pearl/cluster/signals.hpp"
#include "process.hpp"

namespace pearl::cluster {

MpiSession::MpiSession(int& argc, char**& argv) {
  remember_startup_environment();  // for the commands pearl submit starts (process.hpp)
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    throw Error("MPI_Init_thread failed");
  }
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw Error("this MPI library does not provide MPI_THREAD_FUNNELED (got level " + std::to_string(provided) + ")");
  }
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized == 0) MPI_Finalize();
}

MpiCommunicator MpiSession::world() const { return MpiCommunicator(MPI_COMM_WORLD); }

void MpiSession::abort(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort should not return
}

namespace {

/// Waits (up to two seconds) until the launcher has read what this rank wrote to its
/// standard output and error, when they are pipes: hydra's proxy stops reading them once
/// the job aborts, and the run's last message must not be lost.
void wait_until_stdio_is_read() {
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) continue;
    for (int i = 0; i < 200; ++i) {
      int unread = 0;
      if (::ioctl(fd, FIONREAD, &unread) != 0 || unread == 0) break;
      ::usleep(10000);
    }
  }
}

}  // namespace

int MpiSession::finish(int exit_code) {
  // Hydra's proxies give each rank MPI_LOCALNRANKS; Open MPI and Slurm's srun do not.
  if (exit_code == 0 || std::getenv("MPI_LOCALNRANKS") == nullptr) return exit_code;
  int forwarded = stop_forwarded_by_launcher() ? 1 : 0;
  int any_forwarded = 0;
  if (MPI_Allreduce(&forwarded, &any_forwarded, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS ||
      any_forwarded == 0) {
    return exit_code;
  }
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  wait_until_stdio_is_read();
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Barrier(MPI_COMM_WORLD);  // every rank's messages are out before rank 0 ends the job
  if (rank == 0) abort(exit_code);
  return exit_code;
}

}  // namespace pearl::cluster
