// pearl/core/stop.hpp — a request to stop the run at its next safe point (a signal).
//
// cluster/ owns signal handling: its handler calls `request_stop(SIGTERM)` (one lock-free
// atomic store, async-signal-safe). Core sees only this flag. Every cross-rank agreement
// (agreement.hpp: the engine's meetings between map waves, its exchange rounds, the
// runner's stages, job collectives) carries it while stop points are open, and when any
// rank has it, every rank throws `StopRequested` from that same agreement: the ranks stop
// together, unwind (temporary outputs and scratch are removed) and the runner reports.
//
//   pearl::StopPoints open;                  // the runner, for the stages before commit
//   ...                                      // SIGTERM arrives on rank 1
//   pearl::agree_on_failure(comm, nullptr);  // throws StopRequested on every rank
//
// A stretch that must finish once begun (writing a checkpoint) holds a `DeferStop`:
// agreements inside it do not throw, and the flag stays set for the next one after it.
#pragma once

#include <string>

#include "pearl/core/error.hpp"

namespace pearl {

/// Records that `signal` asks the run to stop. Async-signal-safe.
void request_stop(int signal) noexcept;
/// The signal that asked to stop, or 0.
[[nodiscard]] int stop_requested() noexcept;
/// Forgets a request (tests, and a new run in the same process).
void clear_stop() noexcept;
/// Whether agreements honour a request now (see StopPoints). Async-signal-safe.
[[nodiscard]] bool stop_points_open() noexcept;
/// Whether agreements on this thread throw on a request now: open and not deferred.
[[nodiscard]] bool stop_points_active() noexcept;
/// "SIGTERM", "SIGUSR1", ... for messages.
[[nodiscard]] std::string signal_name(int signal);

/// While alive, agreements honour stop requests (the runner, until its output is
/// committed: a request after that point changes nothing).
class StopPoints {
 public:
  StopPoints() noexcept;
  StopPoints(const StopPoints&) = delete;
  StopPoints& operator=(const StopPoints&) = delete;
  ~StopPoints();
};

/// While alive, agreements on this thread do not throw on a stop request.
class DeferStop {
 public:
  DeferStop() noexcept;
  DeferStop(const DeferStop&) = delete;
  DeferStop& operator=(const DeferStop&) = delete;
  ~DeferStop();
};

/// Thrown on every rank by the agreement at which the ranks learnt of a stop request.
class StopRequested : public Error {
 public:
  explicit StopRequested(int signal)
      : Error("stopped by " + signal_name(signal) + " at a safe point"), signal_(signal) {}
  [[nodiscard]] int signal() const noexcept { return signal_; }

 private:
  int signal_;
};

}  // namespace pearl
