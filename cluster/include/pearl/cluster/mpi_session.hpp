// pearl/cluster/mpi_session.hpp — MPI's lifetime, owned by main().
//
// Only `main` creates an MpiSession, and only when a launcher started the process
// (pearl/cluster/launcher.hpp); library code never initialises, finalises or aborts MPI. Threads: MPI_THREAD_FUNNELED (OpenMP threads map batches, only the main
// thread calls MPI).
//
//   int main(int argc, char** argv) {
//     pearl::cluster::MpiSession mpi(argc, argv);
//     pearl::cluster::MpiCommunicator world = mpi.world();
//     ...
//   }
#pragma once

#include "pearl/cluster/mpi_communicator.hpp"

namespace pearl::cluster {

class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  ~MpiSession();  // MPI_Finalize; never throws

  /// A private duplicate of MPI_COMM_WORLD whose errors are returned and thrown.
  [[nodiscard]] MpiCommunicator world() const;

  /// Ends every rank of the job at once. For the runner's last resort only, when a
  /// rank cannot take part in the failure agreement (e.g. MPI itself failed).
  [[noreturn]] static void abort(int exit_code);

  /// The process's exit code for a command that ended with `exit_code` on every rank;
  /// collective when the code is not 0. MPICH's launcher (hydra) marks a job whose
  /// signal it forwarded as being cleaned up, and then reports 0 for ranks that exit by
  /// themselves: a run stopped by SIGUSR1 or SIGTERM to mpiexec exited 0 one time in
  /// three. There, when a signal forwarded by the launcher stopped the run, rank 0 ends
  /// the job with MPI_Abort(exit_code), whose code hydra always passes on (once every
  /// rank's messages have been read by the launcher, so nothing is cut short).
  /// Elsewhere the code is returned as it is.
  static int finish(int exit_code);
};

}  // namespace pearl::cluster
