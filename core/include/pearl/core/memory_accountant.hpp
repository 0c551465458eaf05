// pearl/core/memory_accountant.hpp — one rank's `--memory`, handed out as named leases.
//
// Every consumer of a rank's memory budget asks one MemoryAccountant for its share and
// holds the answer as a MemoryLease, which gives the bytes back when it goes out of scope.
// A share is a fixed fraction of the budget per kind of consumer (MemoryShare); a lease
// gets that share when it is free and less when earlier leases still hold part of the
// budget, never more than is free. A consumer that can shrink (it spills or streams)
// works within what it got; one that cannot says so with `at_least`, and the accountant
// then throws an InputError naming it, the budget and who holds the rest.
// docs/architecture.md ("Memory budget") lists every consumer and its share.
//
//   pearl::MemoryAccountant& memory = ctx.memory();                   // the rank's one
//   pearl::SpillingBuffer<Trip> trips(engine.options().scratch, "od-trips",
//                                     memory.lease("od trips", pearl::MemoryShare::job_buffer));
//   // the buffer keeps the lease; its bytes return to the budget with the buffer
//
// The accountant keeps each owner's high-water mark (usage()), which `--verbose` and the
// run metrics report, so an operator sees who used what.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pearl/core/communicator.hpp"

namespace pearl {

/// A fixed fraction of the budget that one kind of consumer asks for.
struct MemoryShare {
  std::size_t numerator = 1;
  std::size_t denominator = 8;

  /// This fraction of `total` bytes (exact for the usual numerator 1).
  [[nodiscard]] constexpr std::size_t of(std::size_t total) const noexcept {
    return total / denominator * numerator + total % denominator * numerator / denominator;
  }

  static const MemoryShare engine_tables;    // a pass's hash tables or group buffers (all threads)
  static const MemoryShare shuffle_staging;  // a pass's outboxes and combine tables
  static const MemoryShare shuffle_rounds;   // one exchange round, sent and received
  static const MemoryShare input_batches;    // the batches the readers hold (all threads)
  static const MemoryShare writer_rounds;    // the output writer's gather rounds (at most 8 MiB)
  static const MemoryShare job_buffer;       // what a job keeps beside an engine pass
  static const MemoryShare output_table;     // an output table's rows before they spill
  static const MemoryShare job_alone;        // what a job keeps while it runs no engine pass
};
inline constexpr MemoryShare MemoryShare::engine_tables{1, 2};
inline constexpr MemoryShare MemoryShare::shuffle_staging{1, 8};
inline constexpr MemoryShare MemoryShare::shuffle_rounds{1, 8};
inline constexpr MemoryShare MemoryShare::input_batches{1, 8};
inline constexpr MemoryShare MemoryShare::writer_rounds{1, 8};
inline constexpr MemoryShare MemoryShare::job_buffer{1, 8};
inline constexpr MemoryShare MemoryShare::output_table{1, 4};
inline constexpr MemoryShare MemoryShare::job_alone{1, 2};

namespace detail {
struct MemoryLedger;
}

/// Bytes granted to one named owner; returned to the budget on destruction. Move-only.
class MemoryLease {
 public:
  MemoryLease() = default;
  MemoryLease(MemoryLease&& other) noexcept;
  MemoryLease& operator=(MemoryLease&& other) noexcept;
  MemoryLease(const MemoryLease&) = delete;
  MemoryLease& operator=(const MemoryLease&) = delete;
  ~MemoryLease();

  /// The bytes granted (0 for an empty or released lease).
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  /// Gives back all but `bytes` (no effect if it holds no more).
  void shrink_to(std::size_t bytes) noexcept;
  /// Gives everything back now.
  void release() noexcept { shrink_to(0); }

 private:
  friend class MemoryAccountant;
  MemoryLease(std::shared_ptr<detail::MemoryLedger> ledger, std::size_t owner, std::size_t bytes) noexcept
      : ledger_(std::move(ledger)), owner_(owner), bytes_(bytes) {}
  std::shared_ptr<detail::MemoryLedger> ledger_;  // shared: a lease may outlive its accountant
  std::size_t owner_ = 0;
  std::size_t bytes_ = 0;
};

/// One rank's budget. Thread-safe. Made by the runner from `--memory` (or by an Engine
/// given none); reached as `Engine::memory()` and `JobContext::memory()`.
class MemoryAccountant {
 public:
  /// The least a lease asks for unless it says otherwise (a buffer below it thrashes).
  static constexpr std::size_t kSmallestLease = std::size_t{64} << 10;

  explicit MemoryAccountant(std::size_t total_bytes);

  [[nodiscard]] std::size_t total() const noexcept { return total_; }
  /// `share` of the budget, in bytes: what a lease for it gets when the budget is free.
  [[nodiscard]] std::size_t share(MemoryShare s) const noexcept { return s.of(total_); }
  /// Bytes not held by any lease now.
  [[nodiscard]] std::size_t available() const;

  /// Grants min(want, available()) to `owner` ("od trips"). Throws InputError naming the owner,
  /// the budget and the current holders if that is less than min(at_least, want).
  [[nodiscard]] MemoryLease lease(std::string_view owner, std::size_t want, std::size_t at_least = kSmallestLease);
  [[nodiscard]] MemoryLease lease(std::string_view owner, MemoryShare want, std::size_t at_least = kSmallestLease) {
    return lease(owner, share(want), at_least);
  }
  /// Collective: the same lease on every rank, shrunk to the smallest grant of any rank,
  /// for a share that decides a path every rank must take alike (a failure on any rank
  /// throws on all). Every rank calls it at the same point.
  [[nodiscard]] MemoryLease lease_on_every_rank(Communicator& comm, std::string_view owner, std::size_t want,
                                                std::size_t at_least = kSmallestLease);
  [[nodiscard]] MemoryLease lease_on_every_rank(Communicator& comm, std::string_view owner, MemoryShare want,
                                                std::size_t at_least = kSmallestLease) {
    return lease_on_every_rank(comm, owner, share(want), at_least);
  }
  /// Records `bytes` that `owner` already holds (a finished pass's result in memory): never
  /// refused, so the held total may pass the budget; later leases get less meanwhile.
  [[nodiscard]] MemoryLease hold(std::string_view owner, std::size_t bytes);

  /// One owner's use so far, for --verbose and the run metrics.
  struct Use {
    std::string owner;
    std::size_t peak = 0;      // the most its leases held at once
    std::size_t asked = 0;     // the most one lease asked for
    std::size_t leases = 0;    // leases and holds granted
    std::size_t shrunk = 0;    // leases granted less than they asked
  };
  /// Every owner, in the order they first asked.
  [[nodiscard]] std::vector<Use> usage() const;
  /// The most all leases held at once.
  [[nodiscard]] std::size_t peak() const;

 private:
  std::size_t total_;
  std::shared_ptr<detail::MemoryLedger> ledger_;
};

}  // namespace pearl
