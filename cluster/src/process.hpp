// process.hpp (internal) — runs a command and captures what it prints: how pearl talks to
// the scheduler's commands (sbatch, squeue, scontrol, ...).
//
//   ProcessResult r = run_process({"squeue", "-h", "-j", "42", "-o", "%T"});
//   if (r.status == 0) use(r.out);
#pragma once

#include <string>
#include <vector>

namespace pearl::cluster {

struct ProcessResult {
  int status = -1;  // exit status; 128+N if killed by signal N; 127 if it could not start
  std::string out;
  std::string err;
};

/// Runs argv (argv[0] looked up on PATH) with stdin from /dev/null, and waits for it, in
/// the environment remembered by remember_startup_environment() (else the current one).
ProcessResult run_process(const std::vector<std::string>& argv);

/// Snapshots the environment; main calls it first (MpiSession before MPI_Init). Open MPI's singleton
/// init adds OMPI_*/PMIX_* variables naming this process's own MPI job; a batch job that
/// inherited them through sbatch would have mpirun fail at once, with no message.
void remember_startup_environment();

}  // namespace pearl::cluster
