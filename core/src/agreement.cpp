#include "pearl/core/agreement.hpp"

#include <cstdint>
#include <algorithm>
#include <string>
#include <vector>

#include "pearl/core/error.hpp"
#include "pearl/core/stop.hpp"

namespace pearl {

namespace {
struct Failure {
  std::string message;
  ExitCode code = ExitCode::failure;
};

Failure describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& err) {
    return {err.what(), err.exit_code()};
  } catch (const std::exception& err) {
    return {err.what(), ExitCode::failure};
  } catch (...) {
    return {"unknown exception", ExitCode::failure};
  }
}
}  // namespace

void agree_on_failure(Communicator& comm, const std::exception_ptr& local_failure) {
  agree_on_failure(comm, local_failure, {});
}

void agree_on_failure(Communicator& comm, const std::exception_ptr& local_failure, std::span<std::int64_t> max_values) {
  // One allreduce (max) carries all: slot 0 is size - rank for a failing rank (so the
  // maximum names the lowest failing rank) and 0 otherwise; slot 1 the signal that asked
  // this rank to stop (stop.hpp), while stop points are active; the caller's values follow.
  std::vector<std::int64_t> slots(2 + max_values.size());
  slots[0] = local_failure ? comm.size() - comm.rank() : 0;
  const bool stoppable = stop_points_active();
  slots[1] = stoppable ? stop_requested() : 0;
  std::copy(max_values.begin(), max_values.end(), slots.begin() + 2);
  comm.allreduce(std::span<std::int64_t>(slots), ReduceOp::max);
  std::copy(slots.begin() + 2, slots.end(), max_values.begin());
  if (slots[0] == 0 && slots[1] == 0) return;
  comm.mark_failure_agreed();
  // A failure outranks a stop: its message is the one to report.
  if (slots[0] == 0) throw StopRequested(static_cast<int>(slots[1]));

  const int root = static_cast<int>(comm.size() - slots[0]);
  std::vector<std::byte> payload;
  if (comm.rank() == root) {
    const Failure f = describe(local_failure);
    payload.push_back(static_cast<std::byte>(f.code));
    for (char c : f.message) payload.push_back(static_cast<std::byte>(c));
  }
  comm.broadcast(payload, root);
  if (comm.rank() == root) std::rethrow_exception(local_failure);

  const auto code = static_cast<ExitCode>(payload.at(0));
  const std::string message(reinterpret_cast<const char*>(payload.data()) + 1, payload.size() - 1);
  throw RemoteError(message, code, root);
}

}  // namespace pearl
