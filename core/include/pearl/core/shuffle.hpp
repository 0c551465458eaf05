// pearl/core/shuffle.hpp — moving serialised records to the ranks that own them.
//
// Map threads append records (fixed size, already serialised) to their own `Outbox`,
// one byte buffer per destination rank. `exchange` then sends everything with
// `Communicator::alltoallv` in rounds: in each round a rank sends at most
// `round_bytes / ranks` to each destination, so what any rank receives in one round is
// bounded by `round_bytes` too, however skewed the keys are.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "pearl/core/communicator.hpp"

namespace pearl {

class Outbox {
 public:
  explicit Outbox(int ranks) : to_(static_cast<std::size_t>(ranks)) {}
  std::vector<std::byte>& to(int rank) { return to_[static_cast<std::size_t>(rank)]; }
  [[nodiscard]] const std::vector<std::byte>& to(int rank) const { return to_[static_cast<std::size_t>(rank)]; }
  [[nodiscard]] int ranks() const noexcept { return static_cast<int>(to_.size()); }
  /// Bytes waiting to be sent.
  [[nodiscard]] std::size_t pending() const noexcept;
  /// Empties the buffers, returning memory beyond `keep` bytes per destination.
  void clear(std::size_t keep);

 private:
  std::vector<std::vector<std::byte>> to_;
};

struct ExchangeStats {
  std::size_t rounds = 0;
  std::size_t bytes_sent = 0;      // to other ranks
  std::size_t bytes_received = 0;  // from other ranks
  std::size_t largest_round = 0;   // the most bytes received in one round
};

/// Collective: sends every outbox's pending records to their destinations and calls
/// `deliver` (on this thread) with each round's received records, whole records only.
/// Empties the outboxes. A `deliver` that throws is agreed on before the next round,
/// so every rank stops with the same error.
ExchangeStats exchange(Communicator& comm, std::span<Outbox> outboxes, std::size_t record_size,
                       std::size_t round_bytes, const std::function<void(std::span<const std::byte>)>& deliver);

}  // namespace pearl
