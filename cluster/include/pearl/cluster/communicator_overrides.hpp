// pearl/cluster/communicator_overrides.hpp — the collectives every transport overrides,
// declared once for MpiCommunicator and LocalCommunicator.
//
// Both override the same collectives of pearl::Communicator with the same signatures;
// the list is written here once instead of twice. The macro expands to the plain
// declarations, so a call costs what it did (one virtual call).
//
//   class MyTransport final : public pearl::Communicator {
//    public:
//     [[nodiscard]] int rank() const override;
//     [[nodiscard]] int size() const override;
//     PEARL_COMMUNICATOR_COLLECTIVES
//   };
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pearl/core/communicator.hpp"

#define PEARL_COMMUNICATOR_COLLECTIVES                                                                       \
  void barrier() override;                                                                                   \
  void allreduce(std::span<double> data, ::pearl::ReduceOp op) override;                                     \
  void allreduce(std::span<std::int64_t> data, ::pearl::ReduceOp op) override;                               \
  void broadcast(std::vector<std::byte>& data, int root) override;                                           \
  void allgather(std::span<const std::byte> mine, std::vector<std::vector<std::byte>>& all) override;        \
  void alltoallv(std::span<const std::byte> send, std::span<const std::size_t> send_counts,                  \
                 std::vector<std::byte>& recv, std::vector<std::size_t>& recv_counts) override;
