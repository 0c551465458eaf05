// pearl/core/communicator.hpp — the transport-neutral view of a group of ranks.
//
// The engine and jobs talk to other ranks only through this interface; `pearl::cluster`
// implements it over MPI (`MpiCommunicator`) and in-process with N simulated ranks
// (`LocalCommunicator`), so distributed logic is testable without `mpirun`.
//
// Every call is collective: all ranks of the group must make the same calls in the
// same order. Before a collective that follows work which may throw, agree on failure
// with `agree_on_failure` (pearl/core/agreement.hpp) so a failing rank cannot leave
// the others waiting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pearl {

enum class ReduceOp { sum, min, max };

class Communicator {
 public:
  Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  virtual ~Communicator() = default;

  [[nodiscard]] virtual int rank() const = 0;
  [[nodiscard]] virtual int size() const = 0;

  virtual void barrier() = 0;

  /// Element-wise reduction of `data` across ranks, result on every rank (in place).
  virtual void allreduce(std::span<double> data, ReduceOp op) = 0;
  virtual void allreduce(std::span<std::int64_t> data, ReduceOp op) = 0;

  /// Replaces `data` on every rank with root's bytes (sizes may differ before the call).
  virtual void broadcast(std::vector<std::byte>& data, int root) = 0;

  /// Every rank contributes `mine`; on return `all[r]` holds rank r's bytes.
  virtual void allgather(std::span<const std::byte> mine,
                         std::vector<std::vector<std::byte>>& all) = 0;

  /// Personalised all-to-all: `send` holds the bytes for rank 0, then rank 1, ...
  /// with `send_counts[r]` bytes for rank r. On return `recv` holds what every rank
  /// sent to this one, in rank order, with `recv_counts[r]` bytes from rank r.
  /// Each count must fit in an int (the engine bounds rounds far below that).
  virtual void alltoallv(std::span<const std::byte> send, std::span<const std::size_t> send_counts,
                         std::vector<std::byte>& recv, std::vector<std::size_t>& recv_counts) = 0;

  /// The address of the underlying MPI_Comm, or nullptr when the group is not MPI
  /// (simulated ranks). Only io's parallel-I/O units use it, to hand MPI-IO the group;
  /// job code never needs it.
  [[nodiscard]] virtual const void* mpi_comm() const noexcept { return nullptr; }

  /// True once `agree_on_failure` has thrown on this rank: every rank has learnt of a
  /// failure in the same agreement. An error handler must then not agree on it again,
  /// or it would wait for ranks that are already leaving (pearl/core/agreement.hpp).
  [[nodiscard]] bool failure_agreed() const noexcept { return failure_agreed_; }
  void mark_failure_agreed() noexcept { failure_agreed_ = true; }

 private:
  bool failure_agreed_ = false;
};

}  // namespace pearl
