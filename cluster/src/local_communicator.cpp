#include "pearl/cluster/local_communicator.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstring>
#include <exception>
#include <thread>
#include <vector>

#include "pearl/core/error.hpp"

namespace pearl::cluster {

namespace internal {
/// What each rank posts for the collective in progress: a pointer to its data (valid
/// until the second barrier of the collective) and, for alltoallv, its send counts.
struct Post {
  const void* data = nullptr;
  std::size_t size = 0;
  const std::size_t* counts = nullptr;
};

struct LocalHub {
  explicit LocalHub(int n) : ranks(n), barrier(n), posts(static_cast<std::size_t>(n)) {}
  int ranks;
  std::barrier<> barrier;
  std::vector<Post> posts;
  std::atomic<bool> broken{false};  // a rank left early: collectives can no longer complete
};

/// What the surviving ranks throw when a rank left by an exception of its own.
class RankLeft : public Error {
 public:
  explicit RankLeft(int rank)
      : Error("simulated rank " + std::to_string(rank) + ": another rank left before this collective") {}
};
}  // namespace internal

LocalCommunicator::LocalCommunicator(std::shared_ptr<internal::LocalHub> hub, int rank)
    : hub_(std::move(hub)), rank_(rank) {}

LocalCommunicator::LocalCommunicator() : LocalCommunicator(std::make_shared<internal::LocalHub>(1), 0) {}

LocalCommunicator::~LocalCommunicator() = default;

int LocalCommunicator::size() const { return hub_->ranks; }

void LocalCommunicator::sync() {
  hub_->barrier.arrive_and_wait();
  if (hub_->broken.load()) {
    throw internal::RankLeft(rank_);
  }
}

void LocalCommunicator::post(const void* data, std::size_t size, const std::size_t* counts) {
  hub_->posts[static_cast<std::size_t>(rank_)] = {data, size, counts};
  sync();  // everyone's post is visible after this
}

void LocalCommunicator::barrier() {
  sync();
}

template <class T>
void LocalCommunicator::allreduce_impl(std::span<T> data, ReduceOp op) {
  std::vector<T> result(data.begin(), data.end());
  post(data.data(), data.size());
  for (int r = 0; r < hub_->ranks; ++r) {
    if (r == rank_) continue;
    const auto& p = hub_->posts[static_cast<std::size_t>(r)];
    if (p.size != data.size()) throw Error("allreduce: ranks passed different lengths");
    const T* other = static_cast<const T*>(p.data);
    for (std::size_t i = 0; i < data.size(); ++i) {
      switch (op) {
        case ReduceOp::sum: result[i] += other[i]; break;
        case ReduceOp::min: result[i] = std::min(result[i], other[i]); break;
        case ReduceOp::max: result[i] = std::max(result[i], other[i]); break;
      }
    }
  }
  sync();  // all have read before anyone writes its data
  std::copy(result.begin(), result.end(), data.begin());
}

void LocalCommunicator::allreduce(std::span<double> data, ReduceOp op) {
  if (op != ReduceOp::sum) {
    allreduce_impl(data, op);
    return;
  }
  // Sum in rank order so every rank gets the bit-identical result, as MPI guarantees.
  std::vector<double> result(data.size(), 0.0);
  post(data.data(), data.size());
  for (int r = 0; r < hub_->ranks; ++r) {
    const auto& p = hub_->posts[static_cast<std::size_t>(r)];
    if (p.size != data.size()) throw Error("allreduce: ranks passed different lengths");
    const double* other = static_cast<const double*>(p.data);
    for (std::size_t i = 0; i < data.size(); ++i) result[i] += other[i];
  }
  sync();
  std::copy(result.begin(), result.end(), data.begin());
}

void LocalCommunicator::allreduce(std::span<std::int64_t> data, ReduceOp op) { allreduce_impl(data, op); }

void LocalCommunicator::broadcast(std::vector<std::byte>& data, int root) {
  post(data.data(), data.size());
  std::vector<std::byte> copy;
  if (rank_ != root) {
    const auto& p = hub_->posts[static_cast<std::size_t>(root)];
    const auto* b = static_cast<const std::byte*>(p.data);
    copy.assign(b, b + p.size);
  }
  sync();
  if (rank_ != root) data = std::move(copy);
}

void LocalCommunicator::allgather(std::span<const std::byte> mine, std::vector<std::vector<std::byte>>& all) {
  post(mine.data(), mine.size());
  all.assign(static_cast<std::size_t>(hub_->ranks), {});
  for (int r = 0; r < hub_->ranks; ++r) {
    const auto& p = hub_->posts[static_cast<std::size_t>(r)];
    const auto* b = static_cast<const std::byte*>(p.data);
    all[static_cast<std::size_t>(r)].assign(b, b + p.size);
  }
  sync();
}

void LocalCommunicator::alltoallv(std::span<const std::byte> send, std::span<const std::size_t> send_counts,
                                  std::vector<std::byte>& recv, std::vector<std::size_t>& recv_counts) {
  post(send.data(), send.size(), send_counts.data());
  const auto p = static_cast<std::size_t>(hub_->ranks);
  const auto me = static_cast<std::size_t>(rank_);
  recv_counts.assign(p, 0);
  std::size_t total = 0;
  for (std::size_t r = 0; r < p; ++r) {
    recv_counts[r] = hub_->posts[r].counts[me];
    total += recv_counts[r];
  }
  recv.resize(total);
  std::size_t at = 0;
  for (std::size_t r = 0; r < p; ++r) {
    std::size_t off = 0;  // rank r's bytes for me start after its bytes for ranks < me
    for (std::size_t d = 0; d < me; ++d) off += hub_->posts[r].counts[d];
    if (recv_counts[r] > 0) {
      std::memcpy(recv.data() + at, static_cast<const std::byte*>(hub_->posts[r].data) + off, recv_counts[r]);
    }
    at += recv_counts[r];
  }
  sync();
}

void run_local(int ranks, const std::function<void(Communicator&)>& body) {
  if (ranks < 1) throw Error("run_local: need at least one rank");
  auto hub = std::make_shared<internal::LocalHub>(ranks);
  std::vector<std::exception_ptr> failures(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      try {
        LocalCommunicator comm(hub, r);
        body(comm);
      } catch (...) {
        failures[static_cast<std::size_t>(r)] = std::current_exception();
        hub->broken.store(true);
      }
      hub->barrier.arrive_and_drop();  // never leave the others waiting for this rank
    });
  }
  for (auto& t : threads) t.join();
  // Prefer an original failure over the RankLeft errors it caused.
  std::exception_ptr first;
  for (auto& f : failures) {
    if (!f) continue;
    try {
      std::rethrow_exception(f);
    } catch (const internal::RankLeft&) {
      if (!first) first = f;
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace pearl::cluster
