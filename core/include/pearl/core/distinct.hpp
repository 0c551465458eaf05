// pearl/core/distinct.hpp — exact distinct counts per group, across ranks, in memory.
//
// "How many distinct persons per cell" through reduce_by_key keys the engine on every
// (cell, person) pair: pairs that hardly repeat go through its hash tables and the shuffle
// uncombined, at ~90 bytes each, and spill. This is the sort-free, hash-partitioned
// alternative a database uses for COUNT(DISTINCT):
//
//   * `GroupIndex` numbers a rank's groups (any key record) 0, 1, ... as it meets them;
//   * `DistinctPairs` collects (group number, value) pairs at 12 bytes each, split into
//     partitions by a hash of the value and de-duplicated partition by partition as they
//     grow (few distinct values per group shrink to their distinct pairs early);
//   * `unify_groups` (collective) turns every rank's numbering into one numbering of the
//     sorted union of all ranks' groups;
//   * `count_distinct` (collective) counts per group, on one rank each, the distinct
//     values: the ranks send their distinct values (8 bytes each) to the owners of their
//     partitions, which say which values several ranks hold; a value held by one rank is
//     counted there, and only the pairs of shared values travel to the owner, in rounds
//     bounded by the shuffle's round share. Inputs sharded by the counted id (a person's
//     records in one file) move hardly any pairs.
// Summed over ranks, the partial counts are the exact distinct counts (no sketch, no
// rounding): fold them into dense cells and reduce them with reduce_dense_cells.
//
//   pearl::GroupIndex<Cell> cells;
//   pearl::DistinctPairs persons;
//   for (...) persons.add(cells.id(cell_of(row)), person_of(row));
//   if (persons.bytes() > budget.tables()) { /* too many: read again per partition range
//                                               (keep_partitions), or the engine's path */ }
//   const auto groups = pearl::unify_groups(comm, cells.keys());  // sorted union, local -> global
//   const auto partial = pearl::count_distinct(comm, std::move(persons), groups.to_global,
//                                              groups.keys.size(), budget.round());
//   // partial[g]: distinct values of global group g counted on this rank; Σ over ranks = exact
//
// Memory: the pairs held, 12 bytes each with vector slack (`bytes()`), which the caller
// checks against its share of --memory; the exchange adds one round's buffers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/record.hpp"

namespace pearl {

/// A rank's groups numbered in the order met: a flat open-addressing map from key to
/// number, small enough to stay in cache for the few thousand groups of a report.
template <KeyRecord K>
class GroupIndex {
 public:
  /// The number of `key`, given a new one if it was not seen before.
  std::uint32_t id(const K& key) {
    if (keys_.size() * 2 >= slots_.size()) grow();
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = KeyHash<K>{}(key) & mask;; i = (i + 1) & mask) {
      const std::uint32_t s = slots_[i];
      if (s == 0) {
        keys_.push_back(key);
        slots_[i] = static_cast<std::uint32_t>(keys_.size());
        return slots_[i] - 1;
      }
      if (keys_[s - 1] == key) return s - 1;
    }
  }
  /// The keys by number.
  [[nodiscard]] const std::vector<K>& keys() const noexcept { return keys_; }
  [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }
  [[nodiscard]] std::size_t bytes() const noexcept { return keys_.capacity() * sizeof(K) + slots_.size() * 4; }

 private:
  void grow() {
    std::vector<std::uint32_t> slots(std::max<std::size_t>(64, slots_.size() * 2), 0);
    const std::size_t mask = slots.size() - 1;
    for (std::size_t n = 0; n < keys_.size(); ++n) {
      std::size_t i = KeyHash<K>{}(keys_[n]) & mask;
      while (slots[i] != 0) i = (i + 1) & mask;
      slots[i] = static_cast<std::uint32_t>(n + 1);
    }
    slots_ = std::move(slots);
  }

  std::vector<K> keys_;
  std::vector<std::uint32_t> slots_;  // 0: empty, else key number + 1
};

/// Every rank's groups as one numbering: `keys`, the sorted union over ranks (the same on
/// every rank), and `to_global[i]`, the position in `keys` of this rank's group i.
template <class K>
struct UnifiedGroups {
  std::vector<K> keys;
  std::vector<std::uint32_t> to_global;
};

/// Collective. The sorted union of every rank's `local` keys and this rank's numbering in
/// it. Every rank receives every rank's keys: meant for report-sized group counts.
template <KeyRecord K>
UnifiedGroups<K> unify_groups(Communicator& comm, const std::vector<K>& local) {
  static_assert(std::is_trivially_copyable_v<K>, "group keys travel as bytes");
  std::vector<std::vector<std::byte>> all;
  agree_on_failure(comm, nullptr);
  comm.allgather(std::as_bytes(std::span<const K>(local)), all);
  UnifiedGroups<K> out;
  agreed(comm, [&] {
    for (const auto& bytes : all) {
      if (bytes.size() % sizeof(K) != 0) throw Error("unify_groups: a rank sent a partial key");
      const std::size_t n = bytes.size() / sizeof(K);
      const std::size_t at = out.keys.size();
      out.keys.resize(at + n);
      if (n > 0) std::memcpy(static_cast<void*>(out.keys.data() + at), bytes.data(), bytes.size());
    }
    std::sort(out.keys.begin(), out.keys.end());
    out.keys.erase(std::unique(out.keys.begin(), out.keys.end()), out.keys.end());
    if (out.keys.size() > 0xFFFFFFFFULL) throw Error("unify_groups: more than 2^32 groups");
    out.to_global.reserve(local.size());
    for (const K& k : local) {
      out.to_global.push_back(
          static_cast<std::uint32_t>(std::lower_bound(out.keys.begin(), out.keys.end(), k) - out.keys.begin()));
    }
  });
  return out;
}

/// What count_distinct moved from this rank (for progress lines and tests).
struct DistinctStats {
  std::uint64_t values_sent = 0;  // distinct values offered to their owners
  std::uint64_t pairs_sent = 0;   // pairs of values that several ranks hold
};

/// (group number, 64-bit value) pairs of one rank, partitioned by a hash of the value and
/// kept distinct per partition as they grow. Values are any 64-bit identifiers (ids,
/// hashes); group numbers come from a GroupIndex.
class DistinctPairs {
 public:
  /// 2^`partition_bits` partitions: enough that one partition's de-duplication table stays
  /// in cache at tens of millions of pairs, few enough that appending stays cheap.
  explicit DistinctPairs(unsigned partition_bits = 10);

  /// Adds one pair (duplicates are fine: they are dropped), unless its value's partition
  /// is outside the kept range.
  void add(std::uint32_t group, std::uint64_t value) {
    const std::size_t p = partition_of(value);
    if (p - first_kept_ >= kept_) return;
    Partition& part = parts_[p];
    part.values.push_back(value);
    part.groups.push_back(group);
    if (part.values.size() >= part.compact_at) compact(part);
  }
  /// Adds the pairs (groups[i], values[i]) of a batch.
  void add(std::span<const std::uint32_t> groups, std::span<const std::uint64_t> values);

  /// From now on keeps only values of partitions [first, last): a caller short of memory
  /// counts the values in several passes over its input, one range of partitions each
  /// (the counts of disjoint ranges add up).
  void keep_partitions(std::size_t first, std::size_t last) noexcept {
    first_kept_ = first;
    kept_ = last > first ? last - first : 0;
  }
  [[nodiscard]] std::size_t partitions() const noexcept { return parts_.size(); }

  /// Pairs held now (after the de-duplication so far: at least the distinct ones).
  [[nodiscard]] std::size_t size() const noexcept;
  /// Bytes held, vector capacity included: what the caller checks against its budget.
  [[nodiscard]] std::size_t bytes() const noexcept;
  [[nodiscard]] unsigned partition_bits() const noexcept { return bits_; }
  /// The partition of a value (the top bits of its mixed hash).
  [[nodiscard]] std::size_t partition_of(std::uint64_t value) const noexcept { return mix64(value) >> (64 - bits_); }

  /// Calls f(group, value) for every pair held (e.g. to add one map thread's pairs to
  /// another's, with its group numbers translated).
  template <class F>
  void for_each_pair(F&& f) const {
    for (const auto& p : parts_) {
      for (std::size_t i = 0; i < p.values.size(); ++i) f(p.groups[i], p.values[i]);
    }
  }

  /// The pairs exactly as held, every vector's capacity included (so that bytes() and the
  /// compactions to come are the same), for an engine pass saved in its middle: `w` and
  /// `r` are the pass's state writer and reader (put<T>, put_bytes; get<T>, get_bytes,
  /// damaged). Restored into pairs made with the same partition bits.
  template <class Writer>
  void save_state(Writer& w) const {
    for (const std::uint64_t n : {std::uint64_t{bits_}, std::uint64_t{first_kept_}, std::uint64_t{kept_},
                                  std::uint64_t{floor_}, std::uint64_t{scratch_.capacity()}}) {
      w.put(n);
    }
    for (const auto& p : parts_) {
      w.put(std::uint64_t{p.compact_at});
      w.put(std::uint64_t{p.values.capacity()});
      w.put_bytes(std::as_bytes(std::span<const std::uint64_t>(p.values)));
      w.put_bytes(std::as_bytes(std::span<const std::uint32_t>(p.groups)));
    }
  }
  template <class Reader>
  void restore_state(Reader& r) {
    if (r.template get<std::uint64_t>() != bits_) r.damaged("distinct pairs of another partition count");
    first_kept_ = r.template get<std::uint64_t>();
    kept_ = r.template get<std::uint64_t>();
    floor_ = r.template get<std::uint64_t>();
    scratch_.reserve(r.template get<std::uint64_t>());
    for (auto& p : parts_) {
      p.compact_at = r.template get<std::uint64_t>();
      const auto capacity = r.template get<std::uint64_t>();
      const auto values = r.get_bytes();
      const auto groups = r.get_bytes();
      const std::size_t n = values.size() / sizeof(std::uint64_t);
      if (values.size() % sizeof(std::uint64_t) != 0 || groups.size() != n * sizeof(std::uint32_t) || n > capacity) {
        r.damaged("a partition of distinct pairs");
      }
      p.values.reserve(capacity);
      p.groups.reserve(capacity);
      p.values.resize(n);
      p.groups.resize(n);
      if (n > 0) {
        std::memcpy(p.values.data(), values.data(), values.size());
        std::memcpy(p.groups.data(), groups.data(), groups.size());
      }
    }
  }

 private:
  friend std::vector<std::int64_t> count_distinct(Communicator&, DistinctPairs&&, std::span<const std::uint32_t>,
                                                  std::size_t, std::size_t, DistinctStats*);
  struct Partition {
    std::vector<std::uint64_t> values;
    std::vector<std::uint32_t> groups;
    std::size_t compact_at = 4096;
  };
  /// De-duplicates a partition once it has grown past the shared floor.
  void compact(Partition& part);

  unsigned bits_;
  std::vector<Partition> parts_;
  std::vector<std::uint32_t> scratch_;  // compact's table: slot -> pair position + 1
  std::size_t first_kept_ = 0;
  std::size_t kept_ = ~std::size_t{0};       // partitions kept from first_kept_ on
  std::size_t floor_ = 4096;            // no compaction below: raised when one finds few duplicates
};

/// Collective. Sends every partition of `pairs` to the rank that owns it (partition p:
/// rank p mod ranks), with group numbers translated by `to_global` (this rank's number ->
/// global number in [0, groups)), in rounds of at most about `round_bytes` per rank, and
/// returns, per global group, the number of distinct values this rank counts. Summed over
/// ranks these are the exact distinct counts. A value only this rank holds is counted
/// here without moving its pairs (the ranks first compare their distinct values); the
/// pairs of a value several ranks hold go to its partition's owner. Every rank must pass
/// the same partition bits and `groups`.
std::vector<std::int64_t> count_distinct(Communicator& comm, DistinctPairs&& pairs,
                                         std::span<const std::uint32_t> to_global, std::size_t groups,
                                         std::size_t round_bytes, DistinctStats* stats = nullptr);

}  // namespace pearl
