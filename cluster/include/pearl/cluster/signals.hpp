// pearl/cluster/signals.hpp — the `pearl` program's one owner of SIGTERM, SIGINT, SIGUSR1.
//
// The first of them asks the run to stop at its next safe point (pearl::request_stop:
// every rank learns of it at the next agreement, writes a checkpoint if the run has one,
// and the runner reports and exits 75 or 1). Launchers deliver them differently: MPICH's
// hydra forwards SIGTERM, SIGINT and SIGUSR1 to every rank and waits for them; Open MPI's
// mpirun forwards SIGUSR1 and waits, but answers SIGTERM and SIGINT by sending SIGTERM to
// the ranks, exiting at once, and SIGKILLing them a second later (odls_base_sigkill_timeout);
// srun forwards them all. A second signal — or one arriving when no run is listening
// (before the runner starts, after the output is committed) — removes the registered
// temporary outputs (pearl::io::remove_registered_temporaries) and ends the process with
// the signal's default action.
//
//   pearl::cluster::install_stop_handlers();   // main(), once MPI is initialised
#pragma once

namespace pearl::cluster {

/// Installs the handlers (SIGTERM, SIGINT, SIGUSR1). Signals the process ignores stay ignored.
void install_stop_handlers();

/// Whether the signal that asked this rank to stop was sent by its parent process, the
/// launcher's daemon forwarding a signal it received (hydra's proxy, Open MPI's orted),
/// rather than by a user, srun or Slurm directly. MpiSession::finish needs it.
[[nodiscard]] bool stop_forwarded_by_launcher() noexcept;

}  // namespace pearl::cluster
