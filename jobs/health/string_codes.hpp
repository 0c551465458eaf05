// jobs/health/string_codes.hpp — small integer codes for the distinct values of a string
// column, for the health jobs' in-mapper counting.
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
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

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

}  // namespace pearl::jobs
