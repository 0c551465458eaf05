// jobs/health/local_counts.hpp — what the health jobs' maps count with before the engine
// sees a pair: small integer codes for the distinct values of a string column
// (StringCodes) and a table of counts keyed by a word, such a string and 32 more bits
// (CodedCounts).
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
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pearl/core/hash_table.hpp"
#include "pearl/core/table.hpp"

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

/// A key packed by CodedCounts: the caller's word, and string code << 32 | caller's 32 bits.
struct TwoWords {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  auto operator<=>(const TwoWords&) const = default;
  bool operator==(const TwoWords&) const = default;
};

/// Rows counted per (word, string, 32 bits), the string held as a StringCodes code,
/// until drained.
class CodedCounts {
 public:
  /// One more row of the key (word, text, low).
  void add(std::uint64_t word, std::string_view text, std::uint32_t low) {
    const TwoWords key{word, std::uint64_t{strings_.code(text)} << 32U | low};
    table_.upsert(key, 1, mix64(key.a ^ mix64(key.b)), add_);
  }
  /// Whether the keys or the strings have reached `limit` entries: time to drain.
  [[nodiscard]] bool full(std::size_t limit) const noexcept {
    return table_.size() >= limit || strings_.size() >= limit;
  }
  /// Bytes of the longest string counted so far.
  [[nodiscard]] std::size_t longest() const noexcept { return strings_.longest(); }
  /// Calls f(word, text, low, count) for every key counted, then forgets them (keeping
  /// the table's memory).
  template <class F>
  void drain(F&& f) {
    table_.for_each([&](const TwoWords& k, std::int64_t n) {
      f(k.a, strings_.value(static_cast<std::uint32_t>(k.b >> 32U)), static_cast<std::uint32_t>(k.b), n);
    });
    table_.clear();
    strings_.clear();
  }

 private:
  HashTable<TwoWords, std::int64_t> table_;
  StringCodes strings_;
  std::plus<> add_;
};

}  // namespace pearl::jobs
