// pearl/core/agreement.hpp — cross-rank agreement on failure, used before collectives.
//
// A rank that throws must not leave the others blocked in the next collective. The
// rule (see docs/architecture.md): every collective step is preceded by one call to
// `agree_on_failure`, and a rank that failed calls it once from its error handler.
// The call matches the others' next agreement, so all ranks learn of the failure
// together and throw; the lowest failing rank's message is the one reported.
// The error handler (run_cli) agrees only on a failure that was not agreed yet
// (`Communicator::failure_agreed`): a rank that threw outside any agreement joins the
// others' next one there, and a failure every rank already knows is not agreed twice.
//
//   std::exception_ptr failure;
//   try { local_work(); } catch (...) { failure = std::current_exception(); }
//   pearl::agree_on_failure(comm, failure);   // throws on every rank if any failed
//   comm.alltoallv(...);                       // safe: everyone is here
//
// The same allreduce carries a stop request (stop.hpp: a signal on any rank, while the
// runner holds stop points open): every rank then throws `StopRequested` together.
#pragma once

#include <cstdint>
#include <exception>
#include <span>

#include "pearl/core/communicator.hpp"

namespace pearl {

/// Collective. Returns normally when no rank passed a failure. Otherwise throws on
/// every rank: the lowest failing rank rethrows its own exception, the others throw
/// `RemoteError` carrying that rank's message (prefixed "rank N: ") and exit code.
void agree_on_failure(Communicator& comm, const std::exception_ptr& local_failure);

/// The same, and in the same single allreduce replaces each of `max_values` by its
/// maximum over ranks (the values are reduced also when the call then throws). Lets a
/// loop agree on failure and on its own flags with one collective per step.
void agree_on_failure(Communicator& comm, const std::exception_ptr& local_failure, std::span<std::int64_t> max_values);

/// Runs `work` and then agrees on failure: the common "local work, then collective" step.
template <class Work>
void agreed(Communicator& comm, Work&& work) {
  std::exception_ptr failure;
  try {
    std::forward<Work>(work)();
  } catch (...) {
    failure = std::current_exception();
  }
  agree_on_failure(comm, failure);
}

}  // namespace pearl
