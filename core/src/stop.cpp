#include "pearl/core/stop.hpp"

#include <atomic>
#include <csignal>
#include <cstring>

namespace pearl {

namespace {
std::atomic<int> g_signal{0};
std::atomic<int> g_open{0};  // StopPoints alive (a count: nested runs in tests)
thread_local int t_deferred = 0;
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");
}  // namespace

void request_stop(int signal) noexcept {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, signal);  // the first signal is the one reported
}
int stop_requested() noexcept { return g_signal.load(); }
void clear_stop() noexcept { g_signal.store(0); }
bool stop_points_open() noexcept { return g_open.load() > 0; }
bool stop_points_active() noexcept { return stop_points_open() && t_deferred == 0; }

std::string signal_name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGHUP: return "SIGHUP";
    default: return "signal " + std::to_string(signal);
  }
}

StopPoints::StopPoints() noexcept { g_open.fetch_add(1); }
StopPoints::~StopPoints() { g_open.fetch_sub(1); }
DeferStop::DeferStop() noexcept { ++t_deferred; }
DeferStop::~DeferStop() { --t_deferred; }

}  // namespace pearl
