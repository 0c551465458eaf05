#include "pearl/core/shuffle.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pearl/core/agreement.hpp"

namespace pearl {

std::size_t Outbox::pending() const noexcept {
  std::size_t n = 0;
  for (const auto& b : to_) n += b.size();
  return n;
}

std::size_t Outbox::bytes() const noexcept {
  std::size_t n = 0;
  for (const auto& b : to_) n += b.capacity();
  return n;
}

void Outbox::clear(std::size_t keep) {
  for (auto& b : to_) {
    if (b.capacity() > keep) std::vector<std::byte>().swap(b);
    else b.clear();
  }
}

ExchangeStats exchange(Communicator& comm, std::span<Outbox> outboxes, std::size_t record_size,
                       std::size_t round_bytes, const std::function<void(std::span<const std::byte>)>& deliver) {
  const int ranks = comm.size();
  // Per destination and round: whole records, at least one, at most round_bytes / ranks.
  const std::size_t per_dest =
      std::max(record_size, round_bytes / static_cast<std::size_t>(ranks) / record_size * record_size);

  // cursor[t * ranks + d]: bytes of outbox t for destination d already sent.
  std::vector<std::size_t> cursor(outboxes.size() * static_cast<std::size_t>(ranks), 0);
  std::vector<std::byte> send, recv;
  std::vector<std::size_t> send_counts(static_cast<std::size_t>(ranks)), recv_counts;
  ExchangeStats stats;

  for (;;) {
    send.clear();
    bool more_here = false;
    for (int d = 0; d < ranks; ++d) {
      std::size_t budget = per_dest;
      const std::size_t start = send.size();
      for (std::size_t t = 0; t < outboxes.size(); ++t) {
        const auto& buf = outboxes[t].to(d);
        std::size_t& done = cursor[t * static_cast<std::size_t>(ranks) + static_cast<std::size_t>(d)];
        const std::size_t n = std::min(budget, buf.size() - done);
        send.insert(send.end(), buf.begin() + static_cast<std::ptrdiff_t>(done),
                    buf.begin() + static_cast<std::ptrdiff_t>(done + n));
        done += n;
        budget -= n;
        more_here = more_here || done < buf.size();
      }
      send_counts[static_cast<std::size_t>(d)] = send.size() - start;
    }
    comm.alltoallv(send, send_counts, recv, recv_counts);
    ++stats.rounds;
    stats.bytes_sent += send.size();
    agreed(comm, [&] {
      if (!recv.empty()) deliver(recv);
    });
    std::int64_t more = more_here ? 1 : 0;
    comm.allreduce(std::span<std::int64_t>(&more, 1), ReduceOp::max);
    if (more == 0) break;
  }
  for (auto& o : outboxes) o.clear(per_dest);
  return stats;
}

}  // namespace pearl
