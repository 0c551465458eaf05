// pearl/cluster/local_communicator.hpp — N simulated ranks in one process.
//
// Each simulated rank is a thread with its own LocalCommunicator; collectives meet at a
// shared barrier. Distributed logic (shuffle rounds, failure agreement, spilling per
// rank) is thus testable without mpirun, and at odd rank counts cheaply. A lone
// LocalCommunicator() is the world of a `pearl` started without a launcher.
//
//   pearl::cluster::run_local(3, [](pearl::Communicator& comm) {
//     std::int64_t one = 1;
//     comm.allreduce(std::span(&one, 1), pearl::ReduceOp::sum);   // one == 3
//   });
#pragma once

#include <functional>
#include <memory>

#include "pearl/cluster/communicator_overrides.hpp"
#include "pearl/core/communicator.hpp"

namespace pearl::cluster {

namespace internal {
struct LocalHub;
}

class LocalCommunicator final : public Communicator {
 public:
  LocalCommunicator(std::shared_ptr<internal::LocalHub> hub, int rank);
  /// One rank alone: the `pearl` program started without a launcher (launcher.hpp).
  LocalCommunicator();
  ~LocalCommunicator() override;

  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override;
  PEARL_COMMUNICATOR_COLLECTIVES

 private:
  template <class T>
  void allreduce_impl(std::span<T> data, ReduceOp op);
  void post(const void* data, std::size_t size, const std::size_t* counts = nullptr);
  void sync();

  std::shared_ptr<internal::LocalHub> hub_;
  int rank_;
};

/// Runs `body` on `ranks` threads, one simulated rank each, and waits for all. If any
/// rank throws, the others are released from their collectives (they throw too) and
/// the exception of the lowest failing rank is rethrown here.
void run_local(int ranks, const std::function<void(Communicator&)>& body);

}  // namespace pearl::cluster
