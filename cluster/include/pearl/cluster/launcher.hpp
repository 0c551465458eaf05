// pearl/cluster/launcher.hpp — whether this `pearl` process was started by an MPI
// launcher, and so whether it must initialise MPI.
//
// MPI_Init costs a process started alone a third of a second (Open MPI's singleton
// start-up runs a runtime daemon), more than `pearl --version`, `pearl pipeline status`
// or a small one-rank run take in all. So `main` initialises MPI only when a launcher
// started the process (or PEARL_MPI=always asks for it); otherwise it runs as one rank
// over a LocalCommunicator. At one rank nothing needs MPI: the output writer takes its
// serial path (the parallel one is for more than one rank), and the result is the same.
//
//   if (pearl::cluster::mpi_needed(std::getenv)) { /* MpiSession ... */ }
//
// A launcher is recognised by what it puts in each rank's environment:
//   Open MPI's mpirun    OMPI_COMM_WORLD_SIZE / OMPI_COMM_WORLD_RANK, PMIX_RANK
//   MPICH / Intel hydra  PMI_RANK, PMI_SIZE, PMI_FD or PMI_PORT (MPI_LOCALNRANKS)
//   any PMIx launcher    PMIX_RANK (prterun, srun --mpi=pmix)
//   srun                 SLURM_STEP_ID with SLURM_PROCID, whatever its --mpi (--mpi=none
//                        sets nothing else; a batch script's own shell has SLURM_PROCID
//                        but no SLURM_STEP_ID, so a `pearl` it runs directly is alone)
//   others               PMI_ID / MV2_COMM_WORLD_RANK (MVAPICH), ALPS_APP_PE (Cray
//                        aprun), PALS_RANKID (Cray PALS)
// When in doubt the answer is yes: a missed launcher would start N copies of rank 0 of 1,
// each writing the whole output, while a needless MPI_Init only costs time.
#pragma once

#include <functional>

namespace pearl::cluster {

/// Looks a variable up, as std::getenv does (nullptr when unset).
using EnvLookup = std::function<const char*(const char*)>;

/// True when the process must initialise MPI: a launcher's variable is set, or
/// PEARL_MPI=always. PEARL_MPI=auto (or unset/empty) detects; another value throws
/// InputError naming the variable.
[[nodiscard]] bool mpi_needed(const EnvLookup& env);

}  // namespace pearl::cluster
