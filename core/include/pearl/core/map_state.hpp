// pearl/core/map_state.hpp — what a map with state writes into a checkpoint and reads
// back on resume: MapStateWriter, MapStateReader and the SavableMap concept.
//
// A map that keeps state across batches (a FinishingMap: in-mapper combining, dense
// counts) makes its pass restartable in the middle by saving that state itself. The
// engine calls `save_state` on every map thread's copy at a meeting of the ranks where
// the checkpoint is saved, in thread order, and `restore_state` on the same copies, in
// the same order, before the first wave of a resumed pass:
//
//   struct Counts {
//     std::vector<std::int64_t> per_day;
//     void operator()(const pearl::TableBatch& b, auto& emit);   // counts into per_day
//     void finish(auto& emit);                                    // hands per_day on
//     void save_state(pearl::MapStateWriter& w) const {
//       w.put<std::uint64_t>(per_day.size());
//       for (auto n : per_day) w.put(n);
//     }
//     void restore_state(pearl::MapStateReader& r) {
//       per_day.resize(r.get<std::uint64_t>());
//       if (per_day.size() > kMaxDays) r.damaged("the day counts' size");
//       for (auto& n : per_day) n = r.get<std::int64_t>();
//     }
//   };
//
// The bytes are read back only by the same build with the same ranks and threads (the
// checkpoint's identity says so), so fields are fixed-width, in this machine's byte order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pearl/core/record.hpp"

namespace pearl {

/// Appends fixed-width fields to the state of a pass being saved.
class MapStateWriter {
 public:
  /// Local: appends the bytes of a trivially copyable value.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void put(const T& value) {
    const auto* p = reinterpret_cast<const std::byte*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  /// Local: appends a length, then the bytes (read back with MapStateReader::get_bytes).
  void put_bytes(std::span<const std::byte> bytes);
  /// Local: appends a key and a value in the engine's record encoding (record.hpp).
  template <class K, class V>
  void put_pair(const K& k, const V& v) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + Codec<K>::size + Codec<V>::size);
    Codec<K>::write(bytes_.data() + at, k);
    Codec<V>::write(bytes_.data() + at + Codec<K>::size, v);
  }
  /// Everything written so far.
  [[nodiscard]] const std::vector<std::byte>& bytes() const noexcept { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

/// Reads back, in the same order, what a MapStateWriter wrote. Reading past the end, or
/// `damaged(...)`, throws an InputError naming the checkpoint file.
class MapStateReader {
 public:
  /// `from` names the file the bytes came from, for messages.
  MapStateReader(std::vector<std::byte> bytes, std::filesystem::path from)
      : bytes_(std::move(bytes)), from_(std::move(from)) {}

  /// Local: the next trivially copyable value.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  T get() {
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  /// Local: the next run of bytes written by put_bytes (a view into the reader).
  std::span<const std::byte> get_bytes();
  /// Local: the next key and value written by put_pair.
  template <class K, class V>
  std::pair<K, V> get_pair() {
    const std::byte* in = take(Codec<K>::size + Codec<V>::size);
    return {Codec<K>::read(in), Codec<V>::read(in + Codec<K>::size)};
  }
  /// Whether every byte was read.
  [[nodiscard]] bool done() const noexcept { return at_ == bytes_.size(); }
  /// A value that cannot be right (a size past a limit, a foreign layout): throws the
  /// InputError of a damaged checkpoint, naming the file and `what`.
  [[noreturn]] void damaged(const std::string& what) const;

 private:
  const std::byte* take(std::size_t n);

  std::vector<std::byte> bytes_;
  std::filesystem::path from_;
  std::size_t at_ = 0;
};

/// A map that saves the state it keeps across batches itself (see the file comment).
template <class Map>
concept SavableMap = requires(const Map& saved, Map& restored, MapStateWriter& w, MapStateReader& r) {
  saved.save_state(w);
  restored.restore_state(r);
};

}  // namespace pearl
