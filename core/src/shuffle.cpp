#include "pearl/core/shuffle.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pearl/core/agreement.hpp"
#include "pearl/core/detail/fault_point.hpp"
#include "pearl/core/hash_table.hpp"  // BigArray's huge-page advice

namespace pearl {

std::size_t Outbox::pending() const noexcept {
  std::size_t n = 0;
  for (const auto& b : to_) n += b.size();
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

  // Round buffers past a few MiB get huge pages (see hash_table.hpp): page faults are a
  // large part of moving hundreds of MiB. What one round can receive is bounded, so
  // reserving it up front (address space only) spares recv its growth copies too.
  const std::size_t max_round = per_dest * static_cast<std::size_t>(ranks);

  for (;;) {
    send.clear();
    bool more_here = false;
    // This round's slice of each (outbox, destination) buffer.
    struct Slice {
      const std::byte* data;
      std::size_t size;
    };
    std::vector<Slice> slices(outboxes.size() * static_cast<std::size_t>(ranks));
    std::size_t total = 0, parts = 0;
    const Slice* only = nullptr;
    for (int d = 0; d < ranks; ++d) {
      std::size_t budget = per_dest;
      std::size_t for_d = 0;
      for (std::size_t t = 0; t < outboxes.size(); ++t) {
        const auto& buf = outboxes[t].to(d);
        const std::size_t at = t * static_cast<std::size_t>(ranks) + static_cast<std::size_t>(d);
        std::size_t& done = cursor[at];
        const std::size_t n = std::min(budget, buf.size() - done);
        slices[at] = {buf.data() + done, n};
        if (n > 0) {
          ++parts;
          only = &slices[at];
        }
        done += n;
        budget -= n;
        for_d += n;
        more_here = more_here || done < buf.size();
      }
      send_counts[static_cast<std::size_t>(d)] = for_d;
      total += for_d;
    }
    // One buffer holds the whole round (e.g. two ranks, one thread): send it in place.
    std::span<const std::byte> out;
    if (parts == 1) {
      out = {only->data, only->size};
    } else if (parts > 1) {
      if (send.capacity() < total) {
        std::vector<std::byte>().swap(send);
        send.reserve(total);
        detail::advise_huge_pages(send.data(), total);
      }
      for (int d = 0; d < ranks; ++d) {
        for (std::size_t t = 0; t < outboxes.size(); ++t) {
          const Slice& sl = slices[t * static_cast<std::size_t>(ranks) + static_cast<std::size_t>(d)];
          send.insert(send.end(), sl.data, sl.data + sl.size);
        }
      }
      out = send;
    }
    if (total >= detail::kBigArrayFrom && recv.capacity() < max_round) {
      std::vector<std::byte>().swap(recv);
      recv.reserve(max_round);
      detail::advise_huge_pages(recv.data(), max_round);
    }
    comm.alltoallv(out, send_counts, recv, recv_counts);
    ++stats.rounds;
    detail::fault_point("shuffle", comm.rank());  // testing aid (tests/faults)
    stats.bytes_sent += total;
    stats.bytes_received += recv.size();
    stats.largest_round = std::max(stats.largest_round, recv.size());
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
