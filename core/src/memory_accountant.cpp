#include "pearl/core/memory_accountant.hpp"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <span>
#include <utility>

#include "pearl/core/agreement.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/memory.hpp"

namespace pearl {
namespace detail {

/// What the accountant and its leases share: the bytes each owner holds now and its
/// high-water marks. A lease keeps it alive, so a result may outlive its engine.
struct MemoryLedger {
  struct Owner {
    MemoryAccountant::Use use;
    std::size_t now = 0;
  };
  std::mutex mutex;
  std::vector<Owner> owners;
  std::size_t held = 0;
  std::size_t peak = 0;

  std::size_t owner_index(std::string_view name) {
    for (std::size_t i = 0; i < owners.size(); ++i) {
      if (owners[i].use.owner == name) return i;
    }
    owners.push_back({{.owner = std::string(name)}, 0});
    return owners.size() - 1;
  }
  void add(std::size_t owner, std::size_t bytes, std::size_t asked) {
    Owner& o = owners[owner];
    o.now += bytes;
    o.use.peak = std::max(o.use.peak, o.now);
    o.use.asked = std::max(o.use.asked, asked);
    ++o.use.leases;
    if (bytes < asked) ++o.use.shrunk;
    held += bytes;
    peak = std::max(peak, held);
  }
  /// The bytes of `total` nobody holds (the caller holds `mutex`).
  [[nodiscard]] std::size_t free_of(std::size_t total) const noexcept { return held >= total ? 0 : total - held; }
  void give_back(std::size_t owner, std::size_t bytes) noexcept {
    const std::lock_guard lock(mutex);
    owners[owner].now -= bytes;
    held -= bytes;
  }
  /// "engine tables 8.0 MiB, od trips 2.0 MiB": who holds the budget now.
  std::string holders() const {
    std::string text;
    for (const auto& o : owners) {
      if (o.now > 0) text += (text.empty() ? "" : ", ") + o.use.owner + " " + format_bytes(o.now);
    }
    return text.empty() ? "nothing" : text;
  }
};

}  // namespace detail

MemoryLease::MemoryLease(MemoryLease&& other) noexcept
    : ledger_(std::move(other.ledger_)), owner_(other.owner_), bytes_(std::exchange(other.bytes_, 0)) {}

MemoryLease& MemoryLease::operator=(MemoryLease&& other) noexcept {
  if (this != &other) {
    release();
    ledger_ = std::move(other.ledger_);
    owner_ = other.owner_;
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

MemoryLease::~MemoryLease() { release(); }

void MemoryLease::shrink_to(std::size_t bytes) noexcept {
  if (ledger_ == nullptr || bytes >= bytes_) return;
  ledger_->give_back(owner_, bytes_ - bytes);
  bytes_ = bytes;
}

MemoryAccountant::MemoryAccountant(std::size_t total_bytes)
    : total_(total_bytes), ledger_(std::make_shared<detail::MemoryLedger>()) {}

std::size_t MemoryAccountant::available() const {
  const std::lock_guard lock(ledger_->mutex);
  return ledger_->free_of(total_);
}

MemoryLease MemoryAccountant::lease(std::string_view owner, std::size_t want, std::size_t at_least) {
  const std::lock_guard lock(ledger_->mutex);
  const std::size_t available = ledger_->free_of(total_);
  const std::size_t grant = std::min(want, available);
  if (grant < std::min(at_least, want)) {
    throw InputError("--memory " + format_bytes(total_) + " is too small: " + std::string(owner) + " needs at least " +
                     format_bytes(std::min(at_least, want)) + " but only " + format_bytes(available) +
                     " of the budget is free (held: " + ledger_->holders() + "); give a larger --memory");
  }
  const std::size_t index = ledger_->owner_index(owner);
  ledger_->add(index, grant, want);
  return {ledger_, index, grant};
}

MemoryLease MemoryAccountant::lease_on_every_rank(Communicator& comm, std::string_view owner, std::size_t want,
                                                  std::size_t at_least) {
  MemoryLease mine;
  std::exception_ptr failure;
  try {
    mine = lease(owner, want, at_least);
  } catch (...) {
    failure = std::current_exception();
  }
  std::int64_t smallest = -static_cast<std::int64_t>(mine.bytes());  // the largest negative: the smallest grant
  agree_on_failure(comm, failure, std::span<std::int64_t>(&smallest, 1));
  mine.shrink_to(static_cast<std::size_t>(-smallest));
  return mine;
}

MemoryLease MemoryAccountant::hold(std::string_view owner, std::size_t bytes) {
  const std::lock_guard lock(ledger_->mutex);
  const std::size_t index = ledger_->owner_index(owner);
  ledger_->add(index, bytes, bytes);
  return {ledger_, index, bytes};
}

std::vector<MemoryAccountant::Use> MemoryAccountant::usage() const {
  const std::lock_guard lock(ledger_->mutex);
  std::vector<Use> out;
  out.reserve(ledger_->owners.size());
  for (const auto& o : ledger_->owners) out.push_back(o.use);
  return out;
}

std::size_t MemoryAccountant::peak() const {
  const std::lock_guard lock(ledger_->mutex);
  return ledger_->peak;
}

}  // namespace pearl
