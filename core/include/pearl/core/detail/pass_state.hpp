// pearl/core/internal/pass_state.hpp — the bytes of a map phase's state in the middle of
// a pass: one rank's sinks (tables with their exact slot layout, combine lanes, outboxes),
// written at a meeting of the ranks and read back on resume (internal/pass_checkpoint.hpp).
//
//   StateWriter w;
//   w.put<std::uint64_t>(batches);  w.put_bytes(outbox.to(1));  put_table(w, table);
//   write_state_file(path, w.bytes());
//   StateReader r(read_state_file(path), path);
//   auto batches = r.get<std::uint64_t>();  ...  get_table(r, table);
//
// A file is only read back by the same build with the same ranks and threads (the
// checkpoint's identity says so), so fixed-width fields in this machine's byte order do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "pearl/core/error.hpp"
#include "pearl/core/hash_table.hpp"
#include "pearl/core/results.hpp"
#include "pearl/core/shuffle.hpp"

namespace pearl::internal {

class StateWriter {
 public:
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void put(const T& value) {
    const auto* p = reinterpret_cast<const std::byte*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_bytes(std::span<const std::byte> bytes) {
    put<std::uint64_t>(bytes.size());
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  }
  template <class K, class V>
  void put_pair(const K& k, const V& v) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + pair_size<K, V>);
    write_pair(bytes_.data() + at, k, v);
  }
  [[nodiscard]] const std::vector<std::byte>& bytes() const noexcept { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

class StateReader {
 public:
  StateReader(std::vector<std::byte> bytes, std::filesystem::path from) : bytes_(std::move(bytes)), from_(std::move(from)) {}
  template <class T>
    requires std::is_trivially_copyable_v<T>
  T get() {
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  std::span<const std::byte> get_bytes() {
    const auto n = get<std::uint64_t>();
    return {take(n), n};
  }
  template <class K, class V>
  std::pair<K, V> get_pair() {
    return read_pair<K, V>(take(pair_size<K, V>));
  }
  [[nodiscard]] bool done() const noexcept { return at_ == bytes_.size(); }
  /// A damaged or foreign file: an InputError naming it.
  [[noreturn]] void damaged(const std::string& what) const {
    throw InputError("--resume: the checkpoint file " + from_.string() + " is damaged (" + what +
                     "); run without --resume to start over");
  }

 private:
  const std::byte* take(std::size_t n) {
    if (bytes_.size() - at_ < n) damaged("it ends early");
    const std::byte* p = bytes_.data() + at_;
    at_ += n;
    return p;
  }
  std::vector<std::byte> bytes_;
  std::filesystem::path from_;
  std::size_t at_ = 0;
};

inline void write_state_file(const std::filesystem::path& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw Error("checkpoint: cannot write " + path.string());
}

inline std::vector<std::byte> read_state_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("--resume: the checkpoint file " + path.string() + " is missing; run without --resume to start over");
  std::vector<char> text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(text.size());
  std::memcpy(bytes.data(), text.data(), text.size());
  return bytes;
}

/// A hash table with its exact layout (capacity, and every entry at its slot): a restored
/// table probes, grows, iterates and so folds exactly as the saved one would have.
template <class K, class V>
void put_table(StateWriter& w, const HashTable<K, V>& table) {
  w.put<std::uint64_t>(table.capacity());
  w.put<std::uint64_t>(table.size());
  table.for_each_slot([&](std::size_t i, const K& k, const V& v) {
    w.put<std::uint64_t>(i);
    w.put_pair(k, v);
  });
}

template <class K, class V>
void get_table(StateReader& r, HashTable<K, V>& table) {
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

inline void put_outbox(StateWriter& w, const Outbox& outbox) {
  for (int d = 0; d < outbox.ranks(); ++d) w.put_bytes(outbox.to(d));
}

inline void get_outbox(StateReader& r, Outbox& outbox) {
  for (int d = 0; d < outbox.ranks(); ++d) {
    const auto bytes = r.get_bytes();
    outbox.to(d).assign(bytes.begin(), bytes.end());
  }
}

}  // namespace pearl::internal
