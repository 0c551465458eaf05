#include "pearl/cluster/launcher.hpp"

#include <string>

#include "pearl/core/error.hpp"

namespace pearl::cluster {

namespace {

/// Variables any one of which means a launcher started this process (launcher.hpp).
constexpr const char* kLauncherVariables[] = {
    "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK",                // Open MPI's mpirun
    "PMI_RANK", "PMI_SIZE", "PMI_FD", "PMI_PORT", "MPI_LOCALNRANKS",  // MPICH's hydra, srun --mpi=pmi2
    "PMIX_RANK",                                                   // PMIx: prterun, srun --mpi=pmix
    "PMI_ID", "MV2_COMM_WORLD_RANK",                               // MVAPICH's mpirun_rsh
    "ALPS_APP_PE", "PALS_RANKID",                                  // Cray aprun, Cray PALS
};

bool is_set(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  return v != nullptr && *v != '\0';
}

}  // namespace

bool mpi_needed(const EnvLookup& env) {
  const char* mode = env("PEARL_MPI");
  const std::string m = mode != nullptr ? mode : "";
  if (m == "always") return true;
  if (!m.empty() && m != "auto") {
    throw InputError("PEARL_MPI=" + m + ": expected 'auto' (initialise MPI only under a launcher) or 'always'");
  }
  for (const char* name : kLauncherVariables) {
    if (is_set(env, name)) return true;
  }
  // Inside a job step srun started (any --mpi); a batch script's shell has no step id.
  return is_set(env, "SLURM_STEP_ID") && is_set(env, "SLURM_PROCID");
}

}  // namespace pearl::cluster
