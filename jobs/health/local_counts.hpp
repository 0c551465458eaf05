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
#include <bit>
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

/// Strings as one word each, for a key: a string of up to 7 bytes (disease codes: "A00",
/// "B08.4") is held in the word itself, its length in the top byte; a longer one as a
/// StringCodes code, marked by a top byte of 0xFF. Words of long strings are valid until
/// clear().
class CodedText {
 public:
  std::uint64_t word(std::string_view text) {
    longest_ = std::max(longest_, text.size());
    if (text.size() > kShort) [[unlikely]]
      return long_word(text);
    return bytes_of(text.data(), text.size()) | std::uint64_t{text.size()} << kLengthShift;
  }
  /// The string of a word: its bytes when short, else its code's value. (The view points
  /// into `word` itself for short strings: pass the stored word, not a temporary.)
  [[nodiscard]] std::string_view text(const std::uint64_t& word) const {
    const std::size_t top = word >> kLengthShift;
    return top == kLong ? strings_.value(static_cast<std::uint32_t>(word))
                        : std::string_view(reinterpret_cast<const char*>(&word), top);
  }
  /// Long strings coded since the last clear().
  [[nodiscard]] std::size_t coded() const noexcept { return strings_.size(); }
  /// Bytes of the longest string seen (kept across clear()).
  [[nodiscard]] std::size_t longest() const noexcept { return longest_; }
  void note_longest(std::size_t bytes) noexcept { longest_ = std::max(longest_, bytes); }
  void clear() { strings_.clear(); }

 private:
  static constexpr unsigned kLengthShift = 56;
  static constexpr std::uint64_t kLong = 0xFF;
  static constexpr std::size_t kShort = 7;  // bytes held in the word itself

  /// The n (<= 7) bytes at p in a word, in memory order (as memcpy into it puts them, so
  /// that text() reads them back), from loads of fixed size: a memcpy of n bytes is a call
  /// and a store the next load of the word waits for, once per row.
  static std::uint64_t bytes_of(const char* p, std::size_t n) noexcept {
    if constexpr (std::endian::native != std::endian::little) {
      std::uint64_t w = 0;
      std::memcpy(&w, p, n);
      return w;
    }
    const auto byte = [p](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i); };
    if (n >= 4) {  // two 4-byte loads that overlap when n < 8
      std::uint32_t head = 0, tail = 0;
      std::memcpy(&head, p, 4);
      std::memcpy(&tail, p + n - 4, 4);
      return std::uint64_t{head} | std::uint64_t{tail} << (8 * (n - 4));
    }
    return n == 0 ? 0 : byte(0) | byte(n / 2) | byte(n - 1);
  }

  [[gnu::noinline]] std::uint64_t long_word(std::string_view text) { return kLong << kLengthShift | strings_.code(text); }

  StringCodes strings_;
  std::size_t longest_ = 0;
};

/// The counts a CodedCounts or CodedRowCounts saves with a pass stopped in its middle (a
/// checkpoint): entries of (word, low, count, string bytes). Counts are integers, so the
/// order they are added back in does not change any sum.
struct SavedCounts {
  template <class ForEach>
  static void save(pearl::MapStateWriter& w, std::size_t entries, std::size_t longest, ForEach&& for_each) {
    w.put<std::uint64_t>(entries);
    w.put<std::uint64_t>(longest);
    for_each([&](std::uint64_t word, std::string_view text, std::uint64_t low, std::int64_t n) {
      w.put(word);
      w.put(low);
      w.put(n);
      w.put_bytes({reinterpret_cast<const std::byte*>(text.data()), text.size()});
    });
  }
  /// Calls add(word, text, low, n) for each saved entry with low < `lows`; returns the
  /// longest string recorded.
  template <class Add>
  static std::size_t restore(pearl::MapStateReader& r, std::uint64_t lows, Add&& add) {
    const auto keys = r.get<std::uint64_t>();
    const auto longest = r.get<std::uint64_t>();
    for (std::uint64_t i = 0; i < keys; ++i) {
      const auto word = r.get<std::uint64_t>();
      const auto low = r.get<std::uint64_t>();
      const auto rows = r.get<std::int64_t>();
      const auto text = r.get_bytes();
      if (low >= lows || rows <= 0) r.damaged("a count of the health map");
      add(word, std::string_view{reinterpret_cast<const char*>(text.data()), text.size()}, low, rows);
    }
    return longest;
  }
};

/// Rows counted per (word, string, 32 bits), until drained.
class CodedCounts {
 public:
  /// One more row of the key (word, text, low).
  void add(std::uint64_t word, std::string_view text, std::uint32_t low, std::int64_t rows = 1) {
    const CodedKey key{word, text_.word(text), low};
    table_.upsert(key, rows, mix64(key.word ^ mix64(key.text) ^ key.low * 0x9e3779b97f4a7c15ULL), add_);
  }
  /// Whether the keys or the long strings have reached `limit` entries: time to drain.
  [[nodiscard]] bool full(std::size_t limit) const noexcept {
    return table_.size() >= limit || text_.coded() >= limit;
  }
  /// Bytes of the longest string counted so far.
  [[nodiscard]] std::size_t longest() const noexcept { return text_.longest(); }
  /// Calls f(word, text, low, count) for every key counted, then forgets them (keeping
  /// the table's memory).
  template <class F>
  void drain(F&& f) {
    table_.for_each(
        [&](const CodedKey& k, std::int64_t n) { f(k.word, text_.text(k.text), static_cast<std::uint32_t>(k.low), n); });
    table_.clear();
    text_.clear();
  }

  /// The counts not drained yet, as a checkpoint in the middle of a pass holds them: a
  /// map that counts with this class saves them at a meeting (save_state) and a resumed
  /// run adds them back (restore_state, into an empty table).
  void save_state(pearl::MapStateWriter& w) const {
    SavedCounts::save(w, table_.size(), text_.longest(), [&](auto&& put) {
      table_.for_each([&](const CodedKey& k, std::int64_t n) { put(k.word, text_.text(k.text), k.low, n); });
    });
  }
  void restore_state(pearl::MapStateReader& r) {
    if (table_.size() != 0) r.damaged("counts restored into a table that already counts");
    text_.note_longest(SavedCounts::restore(r, std::uint64_t{1} << 32U, [&](auto word, auto text, auto low, auto n) {
      add(word, text, static_cast<std::uint32_t>(low), n);
    }));
  }

 private:
  HashTable<CodedKey, std::int64_t> table_;
  CodedText text_;
  std::plus<> add_;
};

/// The engine-facing part of a map that counts rows in a CodedCounts (or another table with
/// its save_state and restore_state: `counts_`) before
/// handing them to the engine with its own `flush(emit)`: everything counted is emitted at
/// finish, and the counts not yet emitted are saved with a pass stopped in its middle (the
/// engine saves and restores every thread's copy in order). A copy starts with no counts.
///
///   class DayCounter : public CountingMap<DayCounter> { ... friend CountingMap; void flush(Emit&); };
template <class Derived, class Counts = CodedCounts>
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

  Counts counts_;
};

}  // namespace pearl::jobs
