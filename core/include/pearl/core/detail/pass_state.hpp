// pearl/core/detail/pass_state.hpp — not API: the engine's own part of a pass's state in
// the middle of a map phase: one rank's sinks (tables with their exact slot layout,
// combine lanes, outboxes), written at a meeting of the ranks and read back on resume
// (detail/pass_checkpoint.hpp). The writer and reader are the public ones a map saves its
// own state with (pearl/core/map_state.hpp).
//
//   MapStateWriter w;
//   w.put<std::uint64_t>(batches);  put_outbox(w, outbox);  put_table(w, table);
//   write_state_file(path, w.bytes());
//   MapStateReader r(read_state_file(path), path);
//   auto batches = r.get<std::uint64_t>();  ...  get_table(r, table);
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "pearl/core/hash_table.hpp"
#include "pearl/core/map_state.hpp"
#include "pearl/core/shuffle.hpp"

namespace pearl::detail {

/// Writes a pass's state file (Error when it cannot).
void write_state_file(const std::filesystem::path& path, const std::vector<std::byte>& bytes);
/// Reads a pass's state file (InputError when it is missing).
std::vector<std::byte> read_state_file(const std::filesystem::path& path);

/// A hash table with its exact layout (capacity, and every entry at its slot): a restored
/// table probes, grows, iterates and so folds exactly as the saved one would have.
template <class K, class V>
void put_table(MapStateWriter& w, const HashTable<K, V>& table) {
  w.put<std::uint64_t>(table.capacity());
  w.put<std::uint64_t>(table.size());
  table.for_each_slot([&](std::size_t i, const K& k, const V& v) {
    w.put<std::uint64_t>(i);
    w.put_pair(k, v);
  });
}

template <class K, class V>
void get_table(MapStateReader& r, HashTable<K, V>& table) {
  const auto capacity = r.get<std::uint64_t>();
  const auto size = r.get<std::uint64_t>();
  if (capacity == 0 || (capacity & (capacity - 1)) != 0 || size > capacity) r.damaged("a table's size");
  table.reset_exact(capacity);
  for (std::uint64_t n = 0; n < size; ++n) {
    const auto i = r.get<std::uint64_t>();
    const auto [k, v] = r.get_pair<K, V>();
    if (i >= capacity) r.damaged("a table's slot");
    table.place(i, k, v);
  }
}

/// Every destination's bytes of an outbox.
void put_outbox(MapStateWriter& w, const Outbox& outbox);
void get_outbox(MapStateReader& r, Outbox& outbox);

}  // namespace pearl::detail
