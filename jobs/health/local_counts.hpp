// jobs/health/local_counts.hpp — what the health jobs' maps count with before the engine
// sees a pair: small integer codes for the distinct values of a string column
// (StringCodes) and a table of counts keyed by a word, a string (short ones packed into
// the key, others coded) and 32 more bits (CodedCounts).
//
// A map that counts rows per (…, disease, …) locally before handing its counts to the
// engine keys its own table with a disease *code* instead of the string: the row's key
// is then a couple of integers, hashed and compared in a few instructions, and the
// string is looked up once per row in this dictionary (a hit on the last value, which
// sorted or clustered input repeats, costs one comparison). Codes are local to one map
// thread and are turned back into strings when the counts are emitted.
//
//   pearl::jobs::StringCodes diseases;
//   const std::uint32_t c = diseases.code(batch_disease[i]);   // 0, 1, 2, … by first sight
//   std::string_view d = diseases.value(c);                     // and back
//   pearl::jobs::CodedCounts counts;
//   counts.add(std::uint64_t{region} << 32 | year, disease, day);   // one more row of this key
//   counts.drain([&](std::uint64_t word, std::string_view disease, std::uint32_t day, std::int64_t n) { ... });
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pearl/job.hpp"

namespace pearl::jobs {

class StringCodes {
 public:
  /// The code of `s`, assigning the next one when it is new.
  std::uint32_t code(std::string_view s) {
    if (last_ != kNone && s == values_[last_]) return last_;
    const auto it = codes_.find(s);
    if (it != codes_.end()) return last_ = it->second;
    const auto c = static_cast<std::uint32_t>(values_.size());
    values_.emplace_back(s);  // a deque: views into earlier values stay valid
    codes_.emplace(std::string_view(values_.back()), c);
    longest_ = std::max(longest_, s.size());
    return last_ = c;
  }
  [[nodiscard]] std::string_view value(std::uint32_t code) const { return values_.at(code); }
  [[nodiscard]] std::size_t size() const noexcept { return values_.size(); }
  /// Bytes of the longest value coded so far (kept across clear()).
  [[nodiscard]] std::size_t longest() const noexcept { return longest_; }
  /// Forgets every code (after the counts that use them were emitted).
  void clear() {
    codes_.clear();
    values_.clear();
    last_ = kNone;
  }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  std::unordered_map<std::string_view, std::uint32_t> codes_;
  std::deque<std::string> values_;
  std::uint32_t last_ = kNone;
  std::size_t longest_ = 0;
};

/// Column `name` of the batch when `wanted` (a --by part), else an empty span.
template <class T>
std::span<const T> column_if(const TableBatch& batch, bool wanted, const char* name) {
  return wanted ? batch.column<T>(name) : std::span<const T>{};
}

/// A key as CodedCounts packs it: the caller's word, the string (its bytes when short,
/// else a code) and the caller's 32 bits.
struct CodedKey {
  std::uint64_t word = 0;
  std::uint64_t text = 0;
  std::uint64_t low = 0;
  auto operator<=>(const CodedKey&) const = default;
  bool operator==(const CodedKey&) const = default;
};

/// Rows counted per (word, string, 32 bits), until drained. A string of up to 7 bytes
/// (disease codes: "A00", "B08.4") is held in the key itself, its length in the top byte;
/// a longer one as a StringCodes code, marked by a top byte of 0xFF.
class CodedCounts {
 public:
  /// One more row of the key (word, text, low).
  void add(std::uint64_t word, std::string_view text, std::uint32_t low, std::int64_t rows = 1) {
    const CodedKey key{word, text_word(text), low};
    table_.upsert(key, rows, mix64(key.word ^ mix64(key.text) ^ key.low * 0x9e3779b97f4a7c15ULL), add_);
  }
  /// Whether the keys or the long strings have reached `limit` entries: time to drain.
  [[nodiscard]] bool full(std::size_t limit) const noexcept {
    return table_.size() >= limit || strings_.size() >= limit;
  }
  /// Bytes of the longest string counted so far.
  [[nodiscard]] std::size_t longest() const noexcept { return longest_; }
  /// Calls f(word, text, low, count) for every key counted, then forgets them (keeping
  /// the table's memory).
  template <class F>
  void drain(F&& f) {
    table_.for_each(
        [&](const CodedKey& k, std::int64_t n) { f(k.word, text_of(k), static_cast<std::uint32_t>(k.low), n); });
    table_.clear();
    strings_.clear();
  }

  /// The counts not drained yet, as a checkpoint in the middle of a pass holds them: a
  /// map that counts with this class saves them at a meeting (save_state) and a resumed
  /// run adds them back (restore_state, into an empty table). Counts are integers, so
  /// the order they are added back in does not change any sum.
  void save_state(pearl::MapStateWriter& w) const {
    w.put<std::uint64_t>(table_.size());
    w.put<std::uint64_t>(longest_);
    table_.for_each([&](const CodedKey& k, std::int64_t n) {
      w.put(k.word);
      w.put(k.low);
      w.put(n);
      const std::string_view text = text_of(k);
      w.put_bytes({reinterpret_cast<const std::byte*>(text.data()), text.size()});
    });
  }
  void restore_state(pearl::MapStateReader& r) {
    if (table_.size() != 0) r.damaged("counts restored into a table that already counts");
    const auto keys = r.get<std::uint64_t>();
    const auto longest = r.get<std::uint64_t>();
    for (std::uint64_t i = 0; i < keys; ++i) {
      const auto word = r.get<std::uint64_t>();
      const auto low = r.get<std::uint64_t>();
      const auto rows = r.get<std::int64_t>();
      const auto text = r.get_bytes();
      if (low > 0xFFFFFFFFU || rows <= 0) r.damaged("a count of the health map");
      add(word, {reinterpret_cast<const char*>(text.data()), text.size()}, static_cast<std::uint32_t>(low), rows);
    }
    longest_ = std::max<std::size_t>(longest_, longest);
  }

 private:
  static constexpr unsigned kLengthShift = 56;
  static constexpr std::uint64_t kLong = 0xFF;
  static constexpr std::size_t kShort = 7;  // bytes held in the key itself

  /// The string of a key: its bytes when short, else its code's value.
  [[nodiscard]] std::string_view text_of(const CodedKey& k) const {
    const std::size_t top = k.text >> kLengthShift;
    return top == kLong ? strings_.value(static_cast<std::uint32_t>(k.text))
                        : std::string_view(reinterpret_cast<const char*>(&k.text), top);
  }

  std::uint64_t text_word(std::string_view text) {
    longest_ = std::max(longest_, text.size());
    if (text.size() > kShort) return kLong << kLengthShift | strings_.code(text);
    std::uint64_t w = 0;  // the bytes in memory order, read back in drain the same way
    std::memcpy(&w, text.data(), text.size());
    return w | std::uint64_t{text.size()} << kLengthShift;
  }

  HashTable<CodedKey, std::int64_t> table_;
  StringCodes strings_;
  std::size_t longest_ = 0;
  std::plus<> add_;
};

/// The engine-facing part of a map that counts rows in a CodedCounts (`counts_`) before
/// handing them to the engine with its own `flush(emit)`: everything counted is emitted at
/// finish, and the counts not yet emitted are saved with a pass stopped in its middle (the
/// engine saves and restores every thread's copy in order). A copy starts with no counts.
///
///   class DayCounter : public CountingMap<DayCounter> { ... friend CountingMap; void flush(Emit&); };
template <class Derived>
class CountingMap {
 public:
  template <class Emit>
  void finish(Emit& emit) {
    static_cast<Derived&>(*this).flush(emit);
  }
  /// Everything counted is emitted by finish: the operation can be restored from a checkpoint.
  [[nodiscard]] static bool keeps_state_after_finish() noexcept { return false; }
  void save_state(pearl::MapStateWriter& w) const { counts_.save_state(w); }
  void restore_state(pearl::MapStateReader& r) { counts_.restore_state(r); }

 protected:
  CountingMap() = default;
  CountingMap(const CountingMap&) {}  // the counts stay with the original
  CountingMap& operator=(const CountingMap&) = delete;
  ~CountingMap() = default;

  CodedCounts counts_;
};

}  // namespace pearl::jobs
