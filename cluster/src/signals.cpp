#include "pearl/cluster/signals.hpp"

#include <csignal>

#include "pearl/core/stop.hpp"
#include "pearl/io/atomic_output.hpp"

namespace pearl::cluster {

namespace {

// Async-signal-safe only: lock-free atomics (stop.hpp), unlink, sigaction, raise.
extern "C" void on_stop_signal(int sig) {
  if (stop_points_open() && stop_requested() == 0) {
    request_stop(sig);
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
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) sigaddset(&action.sa_mask, sig);
  action.sa_flags = SA_RESTART;  // a blocking read or write resumes; the run stops at its next agreement
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) {
    struct sigaction previous {};
    if (::sigaction(sig, nullptr, &previous) != 0 || previous.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &action, nullptr);
  }
}

}  // namespace pearl::cluster
