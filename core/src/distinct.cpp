// Exact distinct counting (pearl/core/distinct.hpp): per-partition de-duplication with an
// open-addressing table that stays in cache, and the exchange of partitions to their owners.
#include "pearl/core/distinct.hpp"

#include <bit>

namespace pearl {
namespace {

/// The slot hash of a (value, group) pair: the low bits of the value's mix (its top bits
/// chose the partition, so they are the same for the whole table) stirred by the group.
inline std::uint64_t pair_hash(std::uint64_t value, std::uint32_t group) noexcept {
  return mix64(value) ^ (static_cast<std::uint64_t>(group) * 0x9E3779B97F4A7C15ULL);
}

/// What travels: one pair with its global group and its partition (a sender packs its
/// partitions in ascending order, so each source's part of a round is sorted by partition).
struct WirePair {
  std::uint64_t value;
  std::uint32_t group;
  std::uint32_t partition;
};

/// Counts, per group, the distinct (value, group) pairs among several runs of pairs of one
/// partition (one run per source rank), into `counts`.
class PartitionCounter {
 public:
  template <class ForEachPair>
  void count(std::size_t pairs, const ForEachPair& for_each_pair, std::vector<std::int64_t>& counts) {
    const std::size_t size = std::bit_ceil(std::max<std::size_t>(16, pairs * 2));
    values_.resize(size);
    groups_.assign(size, 0);
    const std::size_t mask = size - 1;
    for_each_pair([&](std::uint64_t value, std::uint32_t group) {
      for (std::size_t i = pair_hash(value, group) & mask;; i = (i + 1) & mask) {
        if (groups_[i] == 0) {
          values_[i] = value;
          groups_[i] = group + 1;
          ++counts[group];
          return;
        }
        if (groups_[i] == group + 1 && values_[i] == value) return;
      }
    });
  }

 private:
  std::vector<std::uint64_t> values_;
  std::vector<std::uint32_t> groups_;  // 0: empty, else group + 1
};

}  // namespace

DistinctPairs::DistinctPairs(unsigned partition_bits) : bits_(partition_bits), parts_(std::size_t{1} << partition_bits) {
  if (partition_bits < 1 || partition_bits > 16) throw Error("DistinctPairs: partition bits must be 1..16");
}

void DistinctPairs::add(std::span<const std::uint32_t> groups, std::span<const std::uint64_t> values) {
  if (groups.size() != values.size()) throw Error("DistinctPairs::add: groups and values differ in length");
  for (std::size_t i = 0; i < values.size(); ++i) add(groups[i], values[i]);
}

std::size_t DistinctPairs::size() const noexcept {
  std::size_t n = 0;
  for (const auto& p : parts_) n += p.values.size();
  return n;
}

std::size_t DistinctPairs::bytes() const noexcept {
  std::size_t n = scratch_.capacity() * sizeof(std::uint32_t);
  for (const auto& p : parts_) n += p.values.capacity() * sizeof(std::uint64_t) + p.groups.capacity() * sizeof(std::uint32_t);
  return n;
}

void DistinctPairs::compact(Partition& part) {
  const std::size_t n = part.values.size();
  const std::size_t size = std::bit_ceil(n * 2);
  scratch_.assign(size, 0);
  const std::size_t mask = size - 1;
  std::size_t kept = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint64_t v = part.values[j];
    const std::uint32_t g = part.groups[j];
    std::size_t i = pair_hash(v, g) & mask;
    bool seen = false;
    for (; scratch_[i] != 0; i = (i + 1) & mask) {
      const std::size_t at = scratch_[i] - 1;
      if (part.values[at] == v && part.groups[at] == g) {
        seen = true;
        break;
      }
    }
    if (seen) continue;
    part.values[kept] = v;
    part.groups[kept] = g;
    scratch_[i] = static_cast<std::uint32_t>(kept + 1);
    ++kept;
  }
  part.values.resize(kept);
  part.groups.resize(kept);
  // Few duplicates found: compacting again soon would not pay, so wait for more growth.
  part.compact_at = std::max<std::size_t>(4096, kept * (kept * 4 > n * 3 ? 4 : 2));
}

std::vector<std::int64_t> count_distinct(Communicator& comm, DistinctPairs&& pairs,
                                         std::span<const std::uint32_t> to_global, std::size_t groups,
                                         std::size_t round_bytes) {
  const auto ranks = static_cast<std::size_t>(comm.size());
  const auto me = static_cast<std::size_t>(comm.rank());
  auto& parts = pairs.parts_;
  const std::size_t P = parts.size();
  std::vector<std::int64_t> counts(groups, 0);
  PartitionCounter counter;
  const auto global = [&](std::uint32_t local) {
    if (local >= to_global.size() || to_global[local] >= groups) {
      throw Error("count_distinct: group number " + std::to_string(local) + " has no global number");
    }
    return to_global[local];
  };
  // Rounds: enough that no rank sends more than about round_bytes at once.
  std::int64_t most[] = {0, static_cast<std::int64_t>(P)};
  std::exception_ptr failure;
  try {
    const std::size_t wire = pairs.size() * sizeof(WirePair);
    most[0] = static_cast<std::int64_t>(ranks == 1 ? 1 : 1 + wire / std::max<std::size_t>(round_bytes, 1 << 20));
  } catch (...) {
    failure = std::current_exception();
  }
  agree_on_failure(comm, failure, most);
  if (most[1] != static_cast<std::int64_t>(P)) throw Error("count_distinct: ranks differ in partition bits");
  const auto rounds = static_cast<std::size_t>(std::min<std::int64_t>(most[0], static_cast<std::int64_t>(P)));

  if (ranks == 1) {  // every partition is this rank's: count in place
    for (auto& part : parts) {
      counter.count(part.values.size(), [&](const auto& f) {
        for (std::size_t j = 0; j < part.values.size(); ++j) f(part.values[j], global(part.groups[j]));
      }, counts);
      std::vector<std::uint64_t>().swap(part.values);
      std::vector<std::uint32_t>().swap(part.groups);
    }
    return counts;
  }

  for (std::size_t round = 0; round < rounds; ++round) {
    const std::size_t first = P * round / rounds;
    const std::size_t last = P * (round + 1) / rounds;
    std::vector<WirePair> send;
    std::vector<std::size_t> send_bytes(ranks, 0);
    agreed(comm, [&] {
      std::size_t n = 0;
      for (std::size_t p = first; p < last; ++p) n += parts[p].values.size();
      send.reserve(n);
      for (std::size_t to = 0; to < ranks; ++to) {
        const std::size_t before = send.size();
        for (std::size_t p = first + (to + ranks - first % ranks) % ranks; p < last; p += ranks) {
          auto& part = parts[p];
          for (std::size_t j = 0; j < part.values.size(); ++j) {
            send.push_back({part.values[j], global(part.groups[j]), static_cast<std::uint32_t>(p)});
          }
          std::vector<std::uint64_t>().swap(part.values);
          std::vector<std::uint32_t>().swap(part.groups);
        }
        send_bytes[to] = (send.size() - before) * sizeof(WirePair);
      }
    });
    std::vector<std::byte> received;
    std::vector<std::size_t> received_bytes;
    comm.alltoallv(std::as_bytes(std::span<const WirePair>(send)), send_bytes, received, received_bytes);
    std::vector<WirePair>().swap(send);
    agreed(comm, [&] {
      // Each source's pairs for this rank, sorted by partition: walk them with one cursor
      // per source, one owned partition at a time.
      std::vector<std::span<const WirePair>> from(ranks);
      std::size_t at = 0;
      for (std::size_t src = 0; src < ranks; ++src) {
        if (received_bytes[src] % sizeof(WirePair) != 0) throw Error("count_distinct: a rank sent a partial pair");
        from[src] = {reinterpret_cast<const WirePair*>(received.data() + at), received_bytes[src] / sizeof(WirePair)};
        at += received_bytes[src];
      }
      std::vector<std::size_t> cursor(ranks, 0);
      for (std::size_t p = first; p < last; ++p) {
        if (p % ranks != me) continue;
        std::size_t n = 0;
        std::vector<std::pair<std::size_t, std::size_t>> run(ranks);
        for (std::size_t src = 0; src < ranks; ++src) {
          std::size_t end = cursor[src];
          while (end < from[src].size() && from[src][end].partition == p) ++end;
          run[src] = {cursor[src], end};
          n += end - cursor[src];
          cursor[src] = end;
        }
        counter.count(n, [&](const auto& f) {
          for (std::size_t src = 0; src < ranks; ++src) {
            for (std::size_t j = run[src].first; j < run[src].second; ++j) {
              const WirePair& w = from[src][j];
              if (w.group >= groups) throw Error("count_distinct: a rank sent group " + std::to_string(w.group));
              f(w.value, w.group);
            }
          }
        }, counts);
      }
      for (std::size_t src = 0; src < ranks; ++src) {
        if (cursor[src] != from[src].size()) throw Error("count_distinct: rank " + std::to_string(src) + " sent pairs of a partition this rank does not own");
      }
    });
  }
  return counts;
}

}  // namespace pearl
