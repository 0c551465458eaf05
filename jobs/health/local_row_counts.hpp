// jobs/health/local_row_counts.hpp — CodedRowCounts: rows counted per (word, string) and a
// small index i < N (health.incidence's age group), the N counts of a key side by side.
//
// Why: counted per (key, i) in a CodedCounts, the strata of health.incidence (output rows
// × 18 age groups) make a table of a few hundred kilobytes, probed at random once per
// case: a cache miss per case, the largest cost of the job after reading. Keyed by the row
// alone, the table is 18 times smaller and stays in the first cache levels; the age group
// only picks one of the row's counts.
//
//   pearl::jobs::CodedRowCounts<18> counts;
//   counts.add(std::uint64_t{region} << 32 | year, disease, age_group);   // one more case
//   counts.drain([&](std::uint64_t word, std::string_view disease, std::uint32_t group, std::int64_t n) { ... });
//
// It saves and restores like a CodedCounts (the same entries, low = i), so a map can count
// with either behind CountingMap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "local_counts.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs {

template <std::size_t N>
class CodedRowCounts {
 public:
  /// `rows` more rows of the key (word, text) at index i (< N).
  void add(std::uint64_t word, std::string_view text, std::size_t i, std::int64_t rows = 1) {
    const CodedKey key{word, text_.word(text), 0};
    // The row's place: a new row is numbered next; an existing one tells its number.
    auto row = static_cast<std::uint32_t>(keys_.size());
    const auto found = [&row](std::uint32_t at, std::uint32_t) {
      row = at;
      return at;
    };
    index_.upsert(key, row, mix64(key.word ^ mix64(key.text)), found);
    if (row == keys_.size()) [[unlikely]]
      new_row(key);
    counts_[row][i] += rows;
  }
  /// Whether the rows or the long strings have reached `limit` entries: time to drain.
  [[nodiscard]] bool full(std::size_t limit) const noexcept { return keys_.size() >= limit || text_.coded() >= limit; }
  /// Bytes of the longest string counted so far.
  [[nodiscard]] std::size_t longest() const noexcept { return text_.longest(); }

  /// Calls f(word, text, i, count) for every (key, i) counted, rows in the order first
  /// counted, then forgets them (keeping the table's memory).
  template <class F>
  void drain(F&& f) {
    for_each([&](std::uint64_t word, std::string_view text, std::uint64_t i, std::int64_t n) {
      f(word, text, static_cast<std::uint32_t>(i), n);
    });
    index_.clear();
    keys_.clear();
    counts_.clear();
    text_.clear();
  }

  /// The counts not drained yet (CodedCounts' entries, i as `low`), for a checkpoint in the
  /// middle of a pass; restore_state adds them back into an empty table.
  void save_state(pearl::MapStateWriter& w) const {
    std::size_t entries = 0;
    for (const auto& c : counts_) {
      for (const std::int64_t n : c) entries += n != 0 ? 1 : 0;
    }
    SavedCounts::save(w, entries, text_.longest(), [&](auto&& put) { for_each(put); });
  }
  void restore_state(pearl::MapStateReader& r) {
    if (!keys_.empty()) r.damaged("counts restored into a table that already counts");
    text_.note_longest(SavedCounts::restore(r, N, [&](auto word, auto text, auto i, auto n) { add(word, text, i, n); }));
  }

 private:
  [[gnu::noinline]] void new_row(const CodedKey& key) {
    keys_.push_back(key);
    counts_.emplace_back();
  }

  template <class F>
  void for_each(F&& f) const {
    for (std::size_t row = 0; row < keys_.size(); ++row) {
      for (std::size_t i = 0; i < N; ++i) {
        if (counts_[row][i] != 0) f(keys_[row].word, text_.text(keys_[row].text), std::uint64_t{i}, counts_[row][i]);
      }
    }
  }

  // Row key -> its number. Sparse from the start (a few hundred rows in 4096 slots, about
  // 130 KiB, of which only the rows' lines are touched): a probe then almost always ends
  // at its first slot, a branch the processor predicts, where a table grown to 5/8 full
  // mispredicts its probe loop on a good share of the rows.
  HashTable<CodedKey, std::uint32_t> index_{4096};
  std::vector<CodedKey> keys_;                // by number
  std::vector<std::array<std::int64_t, N>> counts_;
  CodedText text_;
};

}  // namespace pearl::jobs
