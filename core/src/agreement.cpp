#include "pearl/core/agreement.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "pearl/core/error.hpp"

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
  constexpr auto none = std::numeric_limits<std::int64_t>::max();
  std::int64_t lowest = local_failure ? comm.rank() : none;
  comm.allreduce(std::span<std::int64_t>(&lowest, 1), ReduceOp::min);
  if (lowest == none) return;

  const int root = static_cast<int>(lowest);
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
