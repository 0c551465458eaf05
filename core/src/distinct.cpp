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

/// What travels: one pair with its global group.
struct WirePair {
  std::uint64_t value;
  std::uint32_t group;
};

/// A set of 64-bit values with a small payload each (open addressing; payload 0 = empty).
class ValueMap {
 public:
  explicit ValueMap(std::size_t n) : keys_(std::bit_ceil(std::max<std::size_t>(16, n * 2))), payload_(keys_.size(), 0) {}
  /// The payload slot of `value`, inserted with payload 0 when new.
  std::uint32_t& operator[](std::uint64_t value) {
    const std::size_t mask = keys_.size() - 1;
    std::size_t i = mix64(value) & mask;
    while (payload_[i] != 0 && keys_[i] != value) i = (i + 1) & mask;
    keys_[i] = value;
    return payload_[i];
  }
  [[nodiscard]] bool contains(std::uint64_t value) const noexcept {
    const std::size_t mask = keys_.size() - 1;
    for (std::size_t i = mix64(value) & mask; payload_[i] != 0; i = (i + 1) & mask) {
      if (keys_[i] == value) return true;
    }
    return false;
  }

 private:
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> payload_;
};

/// Collective: sends send[r] to rank r; returns what every rank sent here, in rank order.
template <class T>
std::vector<T> exchange(Communicator& comm, std::vector<std::vector<T>>& send) {
  std::vector<std::byte> bytes;
  std::vector<std::size_t> counts;
  for (const auto& v : send) counts.push_back(v.size() * sizeof(T));
  for (const auto& v : send) {
    const auto b = std::as_bytes(std::span<const T>(v));
    bytes.insert(bytes.end(), b.begin(), b.end());
  }
  for (auto& v : send) std::vector<T>().swap(v);
  std::vector<std::byte> received;
  std::vector<std::size_t> received_bytes;
  comm.alltoallv(bytes, counts, received, received_bytes);
  if (received.size() % sizeof(T) != 0) throw Error("count_distinct: a rank sent a partial record");
  std::vector<T> out(received.size() / sizeof(T));
  if (!out.empty()) std::memcpy(static_cast<void*>(out.data()), received.data(), received.size());
  return out;
}

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
  if (n < floor_) {  // other partitions found few duplicates: wait for more
    part.compact_at = floor_;
    return;
  }
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
  // Few duplicates found: compacting again soon would not pay, here or (the values are
  // spread over partitions by a hash) in the other partitions, so wait for more growth.
  const bool few = kept * 4 > n * 3;
  part.compact_at = std::max<std::size_t>(4096, kept * (few ? 4 : 2));
  if (few) floor_ = std::min<std::size_t>(std::max(floor_, kept * 4), std::size_t{1} << 22);
}

std::vector<std::int64_t> count_distinct(Communicator& comm, DistinctPairs&& pairs,
                                         std::span<const std::uint32_t> to_global, std::size_t groups,
                                         std::size_t round_bytes, DistinctStats* stats) {
  DistinctStats moved;
  const auto ranks = static_cast<std::size_t>(comm.size());
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
    if (stats != nullptr) *stats = moved;
    return counts;
  }

  // A value held by one rank only is counted there; the pairs of a value held by several
  // go to the partition's owner. Values are sharded by rank in most inputs (a person's
  // records in one file), so mostly only the values travel, 8 bytes per distinct value.
  const auto owner = [&](std::size_t p) { return p % ranks; };
  for (std::size_t round = 0; round < rounds; ++round) {
    const std::size_t first = P * round / rounds;
    const std::size_t last = P * (round + 1) / rounds;
    // 1. Each rank's distinct values of the round's partitions, to their owners.
    std::vector<std::vector<std::uint64_t>> values(ranks);
    agreed(comm, [&] {
      for (std::size_t p = first; p < last; ++p) {
        auto& part = parts[p];
        ValueMap seen(part.values.size());
        for (const std::uint64_t v : part.values) {
          std::uint32_t& s = seen[v];
          if (s == 0) {
            s = 1;
            values[owner(p)].push_back(v);
          }
        }
      }
    });
    for (const auto& v : values) moved.values_sent += v.size();
    std::vector<std::uint64_t> held = exchange(comm, values);
    // 2. The owner finds the values several ranks hold (each rank sent each value once)
    //    and tells every rank (a value's partition is a function of it: one set per round).
    std::vector<std::vector<std::uint64_t>> shared(ranks);
    agreed(comm, [&] {
      ValueMap times(held.size());
      for (const std::uint64_t v : held) ++times[v];
      for (const std::uint64_t v : held) {
        std::uint32_t& t = times[v];
        if (t < 2) continue;
        for (std::size_t to = 0; to < ranks; ++to) shared[to].push_back(v);
        t = 1;  // once per value
      }
      std::vector<std::uint64_t>().swap(held);
    });
    const std::vector<std::uint64_t> several = exchange(comm, shared);
    // 3. Pairs of values held here alone are counted here; the others go to the owner.
    std::vector<std::vector<WirePair>> send(ranks);
    agreed(comm, [&] {
      ValueMap is_shared(several.size());
      for (const std::uint64_t v : several) is_shared[v] = 1;
      for (std::size_t p = first; p < last; ++p) {
        auto& part = parts[p];
        // One hash pass drops the duplicates of the values counted here and counts them.
        counter.count(part.values.size(), [&](const auto& f) {
          for (std::size_t j = 0; j < part.values.size(); ++j) {
            const std::uint32_t g = global(part.groups[j]);
            if (!several.empty() && is_shared.contains(part.values[j])) {
              send[owner(p)].push_back({part.values[j], g});
            } else {
              f(part.values[j], g);
            }
          }
        }, counts);
        std::vector<std::uint64_t>().swap(part.values);
        std::vector<std::uint32_t>().swap(part.groups);
      }
    });
    for (const auto& v : send) moved.pairs_sent += v.size();
    const std::vector<WirePair> received = exchange(comm, send);
    agreed(comm, [&] {
      counter.count(received.size(), [&](const auto& f) {
        for (const WirePair& w : received) {
          if (w.group >= groups) throw Error("count_distinct: a rank sent group " + std::to_string(w.group));
          f(w.value, w.group);
        }
      }, counts);
    });
  }
  if (stats != nullptr) *stats = moved;
  return counts;
}

}  // namespace pearl
