#include "pearl/cluster/signals.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

#include "pearl/core/stop.hpp"
#include "pearl/io/atomic_output.hpp"

namespace pearl::cluster {

namespace {

std::atomic<bool> g_forwarded{false};
static_assert(std::atomic<bool>::is_always_lock_free);

// Async-signal-safe only: lock-free atomics (stop.hpp), getppid, unlink, sigaction, raise.
extern "C" void on_stop_signal(int sig, siginfo_t* info, void* /*context*/) {
  if (stop_points_open() && stop_requested() == 0) {
    request_stop(sig);
    g_forwarded.store(info != nullptr && info->si_code == SI_USER && info->si_pid == ::getppid());
    // A stopped run never commits, so its temporaries go now: Open MPI's mpirun SIGKILLs
    // the ranks one second after forwarding SIGTERM, before they may reach a safe point.
    io::remove_registered_temporaries();
    return;
  }
  io::remove_registered_temporaries();
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  ::sigaction(sig, &fallback, nullptr);
  ::raise(sig);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_sigaction = on_stop_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) sigaddset(&action.sa_mask, sig);
  action.sa_flags = SA_RESTART | SA_SIGINFO;  // a blocking read or write resumes; the run stops at its next agreement
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) {
    struct sigaction previous {};
    if (::sigaction(sig, nullptr, &previous) != 0 || previous.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &action, nullptr);
  }
}

bool stop_forwarded_by_launcher() noexcept { return g_forwarded.load(); }

}  // namespace pearl::cluster
