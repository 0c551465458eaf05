// jobs/table/dense_groups.hpp — in-mapper combining over a small integer key space.
//
// Grouping columns are often small integer codes (region, disease, sex, year, hour).
// When the product of the --by columns' value ranges is small, a group has a fixed
// place in a flat array, (v1 - lo1) * stride1 + (v2 - lo2) * stride2 + ..., and
// counting a row is one index computation and one add: no hashing, probing or key
// comparison (ClickHouse's and DuckDB's "perfect hash" aggregation). table.aggregate
// keeps such an array per map thread across batches; when the map finishes
// (Engine::reduce_by_key's finish step) the arrays are folded across ranks in one
// exchange, or their groups handed to the engine, one pair per group instead of one per
// row (dense_reduce.hpp).
//
// Each block of rows is indexed with a bounds check in the same pass. The ranges are
// learnt from the data, from each key column's min and max over a block that falls
// outside the array:
//  * a block inside the array's ranges is folded into it;
//  * a block outside them widens the array, at least doubling the range it overflowed
//    (so input sorted by key re-lays the array out O(log range) times), while the array
//    stays within its byte cap;
//  * past the cap, the array's groups are handed on and a new array is laid out around
//    the block (sorted input then works as a sliding window);
//  * a block whose own ranges are past the cap is left to the caller (row by row).
// Folding a row into its cell uses the engine's fold (the first row of a cell is stored
// as it is, as the engine's upsert does), so results equal the row-by-row path's.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pearl/job.hpp"

namespace pearl::jobs {

/// Value: the engine's value record, an array of 8-byte slots whose slot 0 is the row
/// count (never 0 for a group that has rows, so it marks the occupied cells).
template <class Value>
class DenseGroups {
 public:
  /// `key_columns` integer columns lead every batch; `max_bytes` bounds the array
  /// (cells × sizeof(Value)).
  DenseGroups(std::size_t key_columns, std::size_t max_bytes)
      : key_columns_(key_columns),
        max_cells_(std::clamp<std::size_t>(max_bytes / sizeof(Value), 1, std::numeric_limits<std::uint32_t>::max())) {}

  /// Puts every row of `batch` (key columns first, in --by order) in the array, a block
  /// of rows at a time: `accumulate(first, n, cell_of_row, cells)` folds rows [first,
  /// first + n) into `cells[cell_of_row[i]]`. The array is widened, or its groups are
  /// handed to `emit` first, when a block falls outside it; a block whose own key ranges
  /// are past the cap goes to `by_row(first, n)` instead. pack(c, v) gives the
  /// packed-key bits of value v of key column c.
  template <class Emit, class PackKey, class Accumulate, class ByRow>
  void add(const TableBatch& batch, Emit& emit, const PackKey& pack, const Accumulate& accumulate,
           const ByRow& by_row) {
    for (std::size_t first = 0; first < batch.rows(); first += kBlockRows) {
      const std::size_t n = std::min(kBlockRows, batch.rows() - first);
      // The common case, every row inside the array, is one pass over the key columns.
      // A block with a row outside it is placed (its ranges, then a wider or a new
      // array) and indexed again; the block is then in L1 from the first pass.
      if (!index(batch, first, n)) {
        if (!place(batch, first, n, emit, pack)) {
          by_row(first, n);
          continue;
        }
        // The array now covers the block's ranges; a miss here would fold rows into
        // cells outside it.
        if (!index(batch, first, n)) throw Error("table.aggregate: a block does not fit the array laid out for it");
      }
      accumulate(first, n, block_.data(), cells_.data());
    }
  }

  /// Hands every group to emit(packed key, value), in key order, and empties the array.
  template <class Emit, class PackKey>
  void flush(Emit& emit, const PackKey& pack) {
    for_each_group(0, cells_.size(),
                   [&](const std::int64_t* values, const Value& v) { emit(packed_key(values, pack), v); });
    std::fill(cells_.begin(), cells_.end(), Value{});
  }

  /// The packed key of a group's key values (pack(c, v): the key bits of value v of key
  /// column c).
  template <class PackKey>
  [[nodiscard]] std::uint64_t packed_key(const std::int64_t* values, const PackKey& pack) const {
    std::uint64_t key = 0;
    for (std::size_t c = 0; c < key_columns_; ++c) key |= pack(c, values[c]);
    return key;
  }

  /// Calls f(key values, one per key column, value) for every group among the cells
  /// [first, first + n), in key order: the array's own, or a block of another array
  /// laid out as this one (`cells`, which defaults to this array's).
  template <class F>
  void for_each_group(std::size_t first, std::size_t n, F&& f, const Value* cells = nullptr) const {
    if (cells == nullptr) cells = cells_.data() + first;
    std::vector<std::int64_t> values(key_columns_);
    for (std::size_t i = 0; i < n; ++i) {
      if (cells[i][0] == 0) continue;
      std::size_t rest = first + i;
      for (std::size_t c = key_columns_; c-- > 0;) {
        const std::uint64_t width = layout_[c].width;
        values[c] = layout_[c].lo + static_cast<std::int64_t>(rest % width);
        rest /= width;
      }
      f(values.data(), cells[i]);
    }
  }

  /// The key ranges the array covers, one per key column; empty before the first block.
  using Ranges = std::vector<std::pair<std::int64_t, std::int64_t>>;
  [[nodiscard]] Ranges ranges() const {
    Ranges r;
    for (const auto& a : layout_) r.emplace_back(a.lo, a.lo + static_cast<std::int64_t>(a.width - 1));
    return r;
  }

  /// Cells for these ranges, or 0 if past the array's cap.
  [[nodiscard]] std::size_t cells_for(const Ranges& ranges) const {
    const std::size_t cells = cells_of(as_ranges(ranges));
    return cells > max_cells_ ? 0 : cells;
  }

  /// Lays the array out over `ranges` (which cover its own and fit the cap), keeping
  /// its groups; an array that has seen no rows gets those ranges, empty.
  void cover(const Ranges& ranges) {
    const std::vector<Range> r = as_ranges(ranges);
    if (cells_of(r) > max_cells_) throw Error("table.aggregate: the key ranges given do not fit the dense array");
    relayout(r);
  }

  /// Folds every group of `other` into this array, whose ranges cover other's.
  template <class Fold>
  void fold_in(const DenseGroups& other, const Fold& fold) {
    other.for_each_group(0, other.cells_.size(), [&](const std::int64_t* values, const Value& v) {
      std::uint64_t cell = 0;
      for (std::size_t c = 0; c < key_columns_; ++c) {
        cell += static_cast<std::uint64_t>(values[c] - layout_[c].lo) * layout_[c].stride;
      }
      Value& into = cells_[cell];
      into = into[0] == 0 ? v : fold(into, v);
    });
  }

  /// The cells in key order (slot 0 == 0: empty).
  [[nodiscard]] std::vector<Value>& cells() noexcept { return cells_; }

  /// How many groups the array holds, and the key ranges they span (tighter than the
  /// array's own, which widening leaves with room to spare; empty when it holds none).
  [[nodiscard]] std::pair<std::size_t, Ranges> extent() const {
    std::size_t groups = 0;
    Ranges r(key_columns_, {std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()});
    for_each_group(0, cells_.size(), [&](const std::int64_t* values, const Value&) {
      ++groups;
      for (std::size_t c = 0; c < key_columns_; ++c) {
        r[c].first = std::min(r[c].first, values[c]);
        r[c].second = std::max(r[c].second, values[c]);
      }
    });
    if (groups == 0) r.clear();
    return {groups, r};
  }

  [[nodiscard]] std::size_t key_columns() const noexcept { return key_columns_; }

  /// How many times the array was handed on early and laid out anew.
  [[nodiscard]] std::uint64_t restarts() const noexcept { return restarts_; }

  /// The array exactly as it stands (layout, cells, the ranges last seen), for a pass
  /// saved in its middle: a restored array widens, restarts and folds as this one would.
  void save_state(pearl::MapStateWriter& w) const {
    static_assert(std::is_trivially_copyable_v<Value>);
    for (const std::uint64_t n : {std::uint64_t{key_columns_}, std::uint64_t{max_cells_}, restarts_}) w.put(n);
    for (const auto& r : seen_) w.put(r);
    w.put<std::uint64_t>(layout_.size());
    for (const auto& a : layout_) w.put(a);
    w.put_bytes({reinterpret_cast<const std::byte*>(cells_.data()), cells_.size() * sizeof(Value)});
  }

  /// Into an array made with the same key columns and cap.
  void restore_state(pearl::MapStateReader& r) {
    if (r.get<std::uint64_t>() != key_columns_ || r.get<std::uint64_t>() != max_cells_) {
      r.damaged("a dense array of another size: another --memory or --threads?");
    }
    restarts_ = r.get<std::uint64_t>();
    for (auto& s : seen_) s = r.get<Range>();
    const auto axes = r.get<std::uint64_t>();
    if (axes != 0 && axes != key_columns_) r.damaged("a dense array's layout");
    layout_.resize(axes);
    std::uint64_t cells = layout_.empty() ? 0 : 1;
    for (auto& a : layout_) cells *= (a = r.get<Axis>()).width;
    const auto bytes = r.get_bytes();
    if (cells > max_cells_ || bytes.size() != cells * sizeof(Value)) r.damaged("a dense array's cells");
    cells_.resize(cells);
    if (cells > 0) std::memcpy(cells_.data(), bytes.data(), bytes.size());
  }

 private:
  struct Range {
    std::int64_t lo, hi;
  };
  struct Axis {
    std::int64_t lo;
    std::uint64_t width;
    std::uint64_t stride;
  };

  /// Lays the array out to cover rows [first, first + n), which index() found outside
  /// it, handing its groups on first if it must start again; false if those rows alone
  /// are past the cap.
  template <class Emit, class PackKey>
  bool place(const TableBatch& batch, std::size_t first, std::size_t n, Emit& emit, const PackKey& pack) {
    for (std::size_t c = 0; c < key_columns_; ++c) {
      const auto r = range_of(batch.data(c), first, n);
      if (!r) return false;  // a value outside int64 (uint64 column)
      seen_[c] = *r;
    }
    auto wider = widened(seen_);
    if (!wider) {
      // Past the cap together: hand on what the array holds, start again here.
      if (cells_of(seen_) > max_cells_) return false;
      flush(emit, pack);
      layout_.clear();  // a new array, around this block alone
      cells_.clear();
      ++restarts_;
      wider = seen_;
    }
    relayout(*wider);
    return true;
  }

  static std::optional<Range> range_of(const ColumnData& data, std::size_t first, std::size_t n) {
    return std::visit(
        [&](const auto& v) -> std::optional<Range> {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if constexpr (std::is_integral_v<T>) {
            // Written so that GCC vectorises it: neither minmax_element nor std::min
            // and std::max (references: "control flow in loop") are, and the scalar
            // loop was the largest cost of a count-only run.
            const T* x = v.data() + first;
            T lo = x[0], hi = x[0];
            for (std::size_t i = 0; i < n; ++i) {
              lo = x[i] < lo ? x[i] : lo;
              hi = x[i] > hi ? x[i] : hi;
            }
            if constexpr (std::is_same_v<T, std::uint64_t>) {
              if (hi > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
            }
            return Range{static_cast<std::int64_t>(lo), static_cast<std::int64_t>(hi)};
          } else {
            throw Error("table.aggregate: a dense key column is not an integer column");
          }
        },
        data);
  }

  static std::uint64_t width_of(const Range& r) noexcept {
    return static_cast<std::uint64_t>(r.hi) - static_cast<std::uint64_t>(r.lo) + 1;  // 0: all of int64
  }

  /// Cells for these ranges, or more than max_cells_ if past it (no overflow).
  static std::vector<Range> as_ranges(const Ranges& ranges) {
    std::vector<Range> r;
    for (const auto& [lo, hi] : ranges) r.push_back({lo, hi});
    return r;
  }

  [[nodiscard]] std::size_t cells_of(const std::vector<Range>& ranges) const noexcept {
    std::uint64_t cells = 1;
    for (const auto& r : ranges) {
      const std::uint64_t w = width_of(r);
      if (w == 0 || w > max_cells_ || cells * w > max_cells_) return max_cells_ + 1;
      cells *= w;
    }
    return cells;
  }

  /// The current ranges joined with `seen`, each overflowed range at least doubled, or
  /// the exact join if the doubled one is past the cap; nullopt if that is too.
  [[nodiscard]] std::optional<std::vector<Range>> widened(const std::vector<Range>& seen) const {
    if (layout_.empty()) return cells_of(seen) <= max_cells_ ? std::optional(seen) : std::nullopt;
    std::vector<Range> exact(seen.size()), doubled(seen.size());
    for (std::size_t c = 0; c < seen.size(); ++c) {
      const Range now{layout_[c].lo, layout_[c].lo + static_cast<std::int64_t>(layout_[c].width - 1)};
      exact[c] = {std::min(now.lo, seen[c].lo), std::max(now.hi, seen[c].hi)};
      doubled[c] = exact[c];
      const auto w = static_cast<std::int64_t>(layout_[c].width);
      if (seen[c].lo < now.lo) doubled[c].lo = std::min(exact[c].lo, saturating_sub(now.hi, 2 * w - 1));
      if (seen[c].hi > now.hi) doubled[c].hi = std::max(exact[c].hi, saturating_add(now.lo, 2 * w - 1));
    }
    if (cells_of(doubled) <= max_cells_) return doubled;
    if (cells_of(exact) <= max_cells_) return exact;
    return std::nullopt;
  }

  static std::int64_t saturating_sub(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t r;
    return __builtin_sub_overflow(a, b, &r) ? std::numeric_limits<std::int64_t>::min() : r;
  }
  static std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t r;
    return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<std::int64_t>::max() : r;
  }

  /// Moves the groups into an array laid out over `ranges` (which cover the old ones).
  void relayout(const std::vector<Range>& ranges) {
    std::vector<Axis> axes(ranges.size());
    std::uint64_t stride = 1;
    for (std::size_t c = ranges.size(); c-- > 0;) {
      axes[c] = {ranges[c].lo, width_of(ranges[c]), stride};
      stride *= axes[c].width;
    }
    std::vector<Value> cells(stride);
    for (std::size_t cell = 0; cell < cells_.size(); ++cell) {
      if (cells_[cell][0] == 0) continue;
      std::size_t rest = cell, moved = 0;
      for (std::size_t c = layout_.size(); c-- > 0;) {
        const std::int64_t v = layout_[c].lo + static_cast<std::int64_t>(rest % layout_[c].width);
        rest /= layout_[c].width;
        moved += static_cast<std::size_t>(static_cast<std::uint64_t>(v - axes[c].lo) * axes[c].stride);
      }
      cells[moved] = cells_[cell];
    }
    cells_.swap(cells);
    layout_ = std::move(axes);
  }

  /// block_[i] = the cell of row first + i, one key column after the other; false when
  /// a row lies outside the array (block_ is then partly written and not used).
  bool index(const TableBatch& batch, std::size_t first, std::size_t n) {
    if (layout_.empty()) return false;
    std::fill_n(block_.begin(), n, 0);
    for (std::size_t c = 0; c < key_columns_; ++c) {
      const Axis a = layout_[c];
      const bool inside = std::visit(
          [&](const auto& v) {
            using T = typename std::decay_t<decltype(v)>::value_type;
            if constexpr (std::is_integral_v<T>) {
              return index_column(v.data() + first, n, a);
            } else {
              return false;
            }
          },
          batch.data(c));
      if (!inside) return false;
    }
    return true;
  }

  /// Adds column x's part of the cells of n rows; false if a value lies outside axis a.
  /// The bounds check compares values of T (the axis clamped to T's range), so that it
  /// vectorises with the index computation, in 32-bit arithmetic: a row inside the axis
  /// has x - lo in [0, width), and width < 2^32, so (x - lo) mod 2^32 is that offset.
  template <class T>
  bool index_column(const T* x, std::size_t n, const Axis& a) {
    const std::int64_t hi = a.lo + static_cast<std::int64_t>(a.width - 1);
    if (std::cmp_less(hi, std::numeric_limits<T>::min()) || std::cmp_greater(a.lo, std::numeric_limits<T>::max())) {
      return n == 0;
    }
    const T lo_t = std::cmp_less(a.lo, std::numeric_limits<T>::min()) ? std::numeric_limits<T>::min()
                                                                      : static_cast<T>(a.lo);
    const T hi_t = std::cmp_greater(hi, std::numeric_limits<T>::max()) ? std::numeric_limits<T>::max()
                                                                       : static_cast<T>(hi);
    const auto lo32 = static_cast<std::uint32_t>(a.lo);
    const auto stride = static_cast<std::uint32_t>(a.stride);
    std::uint32_t outside = 0;
    for (std::size_t i = 0; i < n; ++i) {
      outside |= static_cast<std::uint32_t>(x[i] < lo_t) | static_cast<std::uint32_t>(x[i] > hi_t);
      block_[i] += (static_cast<std::uint32_t>(x[i]) - lo32) * stride;
    }
    return outside == 0;
  }

  /// Rows are indexed and folded a block at a time, so that the block's cells stay in L1
  /// between the two, and a block outside the array is read again from L1.
  static constexpr std::size_t kBlockRows = 4096;

  std::size_t key_columns_;
  std::size_t max_cells_;
  std::uint64_t restarts_ = 0;
  std::vector<Range> seen_ = std::vector<Range>(key_columns_);  // the block's ranges
  std::vector<Axis> layout_;             // empty until the first batch
  std::vector<Value> cells_;             // one per key in the ranges; slot 0 == 0: empty
  std::array<std::uint32_t, kBlockRows> block_{};  // cells of the rows of one block
};

}  // namespace pearl::jobs
