// pearl/core/detail/sorted_runs.hpp — not API: the sorted runs behind every result (one in
// memory, others spilled to scratch), their merge, the record encoding of a pair, and the
// small gather of sorted pairs that results and quantiles use.
//
//   detail::SortedRuns<K, V> runs{std::move(memory), std::move(files), scratch};
//   detail::RunMerger<K, V, detail::KeyLess<K, V>> merged(runs.memory, runs.files, runs.read_buffer, {});
//   for (std::pair<K, V> p; merged.next(p);) ...
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <queue>
#include <span>
#include <utility>
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/memory_accountant.hpp"
#include "pearl/core/record.hpp"
#include "pearl/core/scratch.hpp"

namespace pearl::detail {

template <class K, class V>
// NOLINTNEXTLINE(readability-identifier-naming): a trait of K and V, named like std::tuple_size_v
constexpr std::size_t pair_size = Codec<K>::size + Codec<V>::size;

template <class K, class V>
void write_pair(std::byte* out, const K& k, const V& v) noexcept {
  Codec<K>::write(out, k);
  Codec<V>::write(out + Codec<K>::size, v);
}

template <class K, class V>
std::pair<K, V> read_pair(const std::byte* in) noexcept {
  return {Codec<K>::read(in), Codec<V>::read(in + Codec<K>::size)};
}

/// Walks several sorted runs (one in memory, others on disk) in merged order of `less`.
template <class K, class V, class Less>
class RunMerger {
 public:
  RunMerger(std::span<const std::pair<K, V>> memory, std::span<const std::filesystem::path> files,
            std::size_t read_buffer, Less less)
      : memory_(memory), less_(less) {
    readers_.reserve(files.size());
    for (const auto& f : files) readers_.push_back(std::make_unique<RunReader>(f, pair_size<K, V>, read_buffer));
    for (std::size_t i = 0; i <= readers_.size(); ++i) push(i);
  }

  /// Next pair in merged order, or false at the end.
  bool next(std::pair<K, V>& out) {
    if (heap_.empty()) return false;
    const Head h = heap_.top();
    heap_.pop();
    out = h.value;
    push(h.source);
    return true;
  }

 private:
  struct Head {
    std::pair<K, V> value;
    std::size_t source;
  };
  // source == readers_.size() is the in-memory run.
  void push(std::size_t source) {
    if (source == readers_.size()) {
      if (memory_pos_ < memory_.size()) heap_.push({memory_[memory_pos_++], source});
      return;
    }
    RunReader& r = *readers_[source];
    if (const std::byte* rec = r.current()) {
      heap_.push({read_pair<K, V>(rec), source});
      r.advance();
    }
  }
  struct Greater {
    Less less;
    bool operator()(const Head& a, const Head& b) const {
      // Ties broken by source so the merge order is deterministic.
      if (less(b.value, a.value)) return true;
      if (less(a.value, b.value)) return false;
      return a.source > b.source;
    }
  };

  std::span<const std::pair<K, V>> memory_;
  std::size_t memory_pos_ = 0;
  std::vector<std::unique_ptr<RunReader>> readers_;
  Less less_;
  std::priority_queue<Head, std::vector<Head>, Greater> heap_{Greater{less_}};
};

template <class K, class V>
struct KeyLess {
  bool operator()(const std::pair<K, V>& a, const std::pair<K, V>& b) const { return a.first < b.first; }
};
template <class K, class V>
struct KeyValueLess {
  bool operator()(const std::pair<K, V>& a, const std::pair<K, V>& b) const {
    if (a.first < b.first) return true;
    if (b.first < a.first) return false;
    return a.second < b.second;
  }
};

/// Sorted runs shared by both result types: the memory run and the spilled files.
template <class K, class V>
struct SortedRuns {
  std::vector<std::pair<K, V>> memory;
  std::vector<std::filesystem::path> files;
  std::shared_ptr<ScratchDir> scratch;  // keeps spilled files alive as long as the result
  std::size_t read_buffer = 1 << 20;
  std::shared_ptr<MemoryLease> held;  // the memory run's bytes, accounted while the result lives
};

/// All ranks' sorted pairs, merged in key order, on every rank (small data only).
template <class K, class V>
std::vector<std::pair<K, V>> gather_sorted(Communicator& comm, const std::vector<std::pair<K, V>>& mine) {
  constexpr std::size_t rec = pair_size<K, V>;
  agree_on_failure(comm, nullptr);
  std::vector<std::byte> bytes(mine.size() * rec);
  for (std::size_t i = 0; i < mine.size(); ++i) write_pair(bytes.data() + i * rec, mine[i].first, mine[i].second);
  std::vector<std::vector<std::byte>> all;
  comm.allgather(bytes, all);
  std::vector<std::pair<K, V>> out;
  for (const auto& part : all) {
    const std::size_t mid = out.size();
    for (std::size_t off = 0; off < part.size(); off += rec) out.push_back(read_pair<K, V>(part.data() + off));
    std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(mid), out.end(), KeyLess<K, V>{});
  }
  return out;
}

}  // namespace pearl::detail
