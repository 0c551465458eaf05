#include "pearl/cluster/mpi_session.hpp"

#include <mpi.h>

#include <string>

#include "pearl/core/error.hpp"
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

}  // namespace pearl::cluster
