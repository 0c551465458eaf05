// jobs/table/aggregate_map.hpp — table.aggregate's map: rows to (key, slots) pairs.
//
// The --by columns of a row become one fixed-size key: up to 8 bytes as a big-endian
// integer (PackedKey), else their order-preserving bytes (group_key.hpp). The
// aggregates become fixed 8-byte slots (count, integer sum, float sum, count of non-NaN
// values, min, max) that one fold combines. With integer keys the map first counts
// rows in a dense array (dense_groups.hpp) and, when it finishes, leaves the array to
// the job (dense_reduce.hpp); otherwise, or for rows too wide for the array, it emits
// one pair per row. A pass saved in its middle holds each thread's dense array
// (save_state, restore_state).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "dense_groups.hpp"
#include "group_key.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::table_aggregate {

enum class Fold : std::uint8_t { count, sum_int, sum_float, count_valid, min_float, max_float };

/// One aggregate slot: what it folds and from which input column.
struct SlotPlan {
  Fold fold;
  std::size_t column;  // index into the value columns read (unused for count)
};

inline double as_double(std::uint64_t bits) { return std::bit_cast<double>(bits); }
inline std::uint64_t bits_of(double v) { return std::bit_cast<std::uint64_t>(v); }

template <std::size_t M>
using Slots = std::array<std::uint64_t, M>;

/// An integer slot (count, integer sum) whose sum left the int64 range holds this mark
/// (the bits of INT64_MIN), and keeps it: a marked operand gives a marked result, so
/// the output can name the group whose sum overflowed. Sums must lie within
/// ±(2^63 - 1): reaching -2^63 exactly counts as overflow too.
constexpr std::uint64_t kOverflow = std::uint64_t{1} << 63U;

/// a + b in int64, or kOverflow if it overflows or either is kOverflow. Branch-free:
/// it runs once per row and slot in the fold.
inline std::uint64_t add_checked(std::uint64_t a, std::uint64_t b) noexcept {
  std::int64_t r = 0;
  const bool over = __builtin_add_overflow(static_cast<std::int64_t>(a), static_cast<std::int64_t>(b), &r);
  return (over | (a == kOverflow) | (b == kOverflow)) ? kOverflow : static_cast<std::uint64_t>(r);
}

/// Bytes of per-thread key and value buffers the map keeps between batches.
constexpr std::size_t kKeepScratch = std::size_t{64} << 20;

/// Encoded keys of up to 8 bytes travel as one integer: the bytes read big-endian, so
/// integer order is byte order, and hashing and comparing are single instructions
/// instead of hash_bytes and memcmp (bench/io: about a third of the map's time).
using PackedKey = std::uint64_t;

inline std::uint64_t big_endian(std::uint64_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap64(v);
  return v;
}

/// Encoded key bytes <-> Key, for FixedString<N> (the bytes themselves) and PackedKey.
template <class Key>
struct KeyBytes {
  static constexpr std::size_t size = sizeof(Key);
  /// The bytes were written into the keys' storage; turn them into keys in place.
  static void finish(Key*, std::size_t) noexcept {}
  static const unsigned char* bytes(const Key& k, std::array<unsigned char, size>&) noexcept {
    return reinterpret_cast<const unsigned char*>(k.bytes.data());
  }
};
template <>
struct KeyBytes<PackedKey> {
  static constexpr std::size_t size = sizeof(PackedKey);
  static void finish(PackedKey* keys, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) keys[i] = big_endian(keys[i]);
  }
  static const unsigned char* bytes(const PackedKey& k, std::array<unsigned char, size>& buf) noexcept {
    const std::uint64_t b = big_endian(k);
    std::memcpy(buf.data(), &b, size);
    return buf.data();
  }
};

/// Where one integer --by column lands in a PackedKey: its value's bytes as
/// KeyLayout::encode writes them (big-endian, sign bit flipped for signed types), read
/// as bits of the big-endian integer. Both the row-by-row path and the dense array's
/// flush build keys through it.
struct KeyPacker {
  std::uint64_t mask;  // the column's width
  std::uint64_t flip;  // its sign bit, for signed types
  int shift;           // where its bytes sit in the key

  /// For the integer columns of `columns` when all of them are integers that fit 8
  /// bytes together, in order; otherwise empty (keys are then encoded byte by byte).
  static std::vector<KeyPacker> for_columns(const std::vector<ColumnSpec>& columns) {
    std::vector<KeyPacker> packers;
    std::size_t offset = 0;
    for (const auto& c : columns) {
      if (!dtype_is_integer(c.type)) return {};
      const std::size_t bits = 8 * dtype_width(c.type);
      offset += dtype_width(c.type);
      if (offset > sizeof(PackedKey)) return {};
      packers.push_back({bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1,
                         dtype_is_signed(c.type) ? std::uint64_t{1} << (bits - 1) : 0,
                         static_cast<int>(8 * (sizeof(PackedKey) - offset))});
    }
    return packers;
  }

  /// The key bits of value v (any integer type, converted as two's complement).
  [[nodiscard]] std::uint64_t operator()(std::uint64_t v) const noexcept { return ((v & mask) ^ flip) << shift; }
};

/// ORs rows [first, first + n) of an integer column into packed keys.
inline void pack_column(const ColumnData& data, std::size_t first, std::size_t n, const KeyPacker& packer,
                        PackedKey* keys) {
  std::visit(
      [&](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        if constexpr (std::is_integral_v<T>) {
          for (std::size_t i = 0; i < n; ++i) keys[i] |= packer(static_cast<std::uint64_t>(values[first + i]));
        } else {
          throw Error("table.aggregate: a packed key column is not an integer column");
        }
      },
      data);
}

/// Fills slot `s` of every row's value from its input column, column at a time.
template <class Value>
void fill_slot(const SlotPlan& slot, const TableBatch& batch, std::size_t key_columns, std::size_t s,
                      std::vector<Value>& values) {
  if (slot.fold == Fold::count) {
    for (auto& v : values) v[s] = 1;
    return;
  }
  const ColumnData& data = batch.data(key_columns + slot.column);
  if (const auto* ints = std::get_if<std::vector<std::int64_t>>(&data)) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::int64_t x = (*ints)[i];
      values[i][s] = slot.fold == Fold::sum_int ? static_cast<std::uint64_t>(x) : bits_of(static_cast<double>(x));
    }
    return;
  }
  const auto& floats = std::get<std::vector<double>>(data);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double x = floats[i];
    switch (slot.fold) {
      case Fold::sum_float: values[i][s] = bits_of(std::isnan(x) ? 0.0 : x); break;
      case Fold::count_valid: values[i][s] = std::isnan(x) ? 0 : 1; break;
      default: values[i][s] = bits_of(x); break;  // min/max: NaN is skipped by the fold
    }
  }
}


/// Collective: the lease for the dense group arrays of all map threads: at most 16 MiB per
/// thread, and at most a sixteenth of the memory budget (the part the engine's pass leaves
/// to the job's map); the same on every rank, which exchange the arrays.
inline MemoryLease dense_lease(JobContext& ctx) {
  const auto threads = static_cast<std::size_t>(ctx.engine().options().threads);
  const std::size_t per_thread = std::min<std::size_t>(std::size_t{16} << 20, ctx.memory().share({1, 16}) / threads);
  return ctx.memory().lease_on_every_rank(ctx.comm(), "table.aggregate dense arrays", per_thread * threads, 0);
}

/// Which way the rows went: rank 0's figures are shown with --verbose, and the tests
/// read them to know which path they ran.
struct MapCounts {
  std::atomic<std::uint64_t> rows{0};
  std::atomic<std::uint64_t> by_row{0};    // rows handed to the engine one by one
  std::atomic<std::uint64_t> restarts{0};  // dense arrays handed on early and laid out anew
};

/// Where the map threads leave their dense arrays when they finish (DenseReduce then
/// decides how their groups reach the output).
template <class Value>
struct KeptArrays {
  std::mutex mutex;
  std::vector<DenseGroups<Value>> arrays;
};

/// The map of table.aggregate: encodes each row's --by values into a Key and its
/// aggregates into slots; with packed integer keys it first tries the dense array.
/// The engine gives every map thread its own copy and calls finish at the end, which
/// leaves the thread's array in `kept`.
template <class Key, std::size_t M, class FoldFn>
class AggregateMap {
 public:
  using Value = Slots<M>;

  /// `dense_bytes` 0: no dense array.
  AggregateMap(const std::vector<SlotPlan>& plan, const KeyLayout& layout, FoldFn fold, std::size_t dense_bytes,
               std::shared_ptr<MapCounts> counts, std::shared_ptr<KeptArrays<Value>> kept)
      : plan_(plan), layout_(&layout), key_columns_(layout.columns().size()), fold_(fold), counts_(std::move(counts)),
        kept_(std::move(kept)) {
    if constexpr (std::is_same_v<Key, PackedKey>) {
      packers_ = KeyPacker::for_columns(layout.columns());
      if (!packers_.empty() && dense_bytes > 0) dense_.emplace(key_columns_, dense_bytes);
      if (dense_) dense_bytes_ = dense_bytes;
    }
  }
  // Copied once per map thread before any batch: the scratch and array start empty.
  AggregateMap(const AggregateMap&) = default;

  template <class Emit>
  void operator()(const TableBatch& batch, Emit& emit) {
    counts_->rows += batch.rows();
    if (!count_only()) fill_values(batch);
    if constexpr (std::is_same_v<Key, PackedKey>) {
      if (dense_) {
        const auto rows_to_engine = [&](std::size_t first, std::size_t n) {
          counts_->by_row += n;
          by_row(batch, first, n, emit);
        };
        if (count_only()) {
          dense_->add(batch, emit, packer(), [](std::size_t, std::size_t n, const std::uint32_t* cell, Value* cells) {
            for (std::size_t i = 0; i < n; ++i) ++cells[cell[i]][0];
          }, rows_to_engine);
        } else {
          dense_->add(batch, emit, packer(), [&](std::size_t first, std::size_t n, const std::uint32_t* cell, Value* cells) {
            for (std::size_t i = 0; i < n; ++i) {
              Value& c = cells[cell[i]];
              const Value& v = values_[first + i];
              c = c[0] == 0 ? v : fold_(c, v);  // the first row is stored as is, as upsert does
            }
          }, rows_to_engine);
        }
        return;
      }
    }
    counts_->by_row += batch.rows();
    by_row(batch, 0, batch.rows(), emit);
  }

  /// Whether the dense array is used at all (integer keys of up to 8 bytes).
  [[nodiscard]] bool dense() const noexcept { return dense_bytes_ > 0; }
  /// The engine's checkpoint asks: a dense map leaves its arrays in `kept` for the job's
  /// own exchange, so its operation cannot be restored from a checkpoint on resume.
  [[nodiscard]] bool keeps_state_after_finish() const noexcept { return dense(); }
  /// And mid-pass: only the dense array lives from one batch to the next, and the map
  /// saves it itself (save_state, restore_state).
  [[nodiscard]] bool keeps_state_between_batches() const noexcept { return dense(); }

  template <class Emit>
  void finish(Emit&) {
    if (dense_) {
      counts_->restarts += dense_->restarts();
      const std::lock_guard lock(kept_->mutex);
      kept_at_ = kept_->arrays.size();
      kept_->arrays.push_back(std::move(*dense_));
      dense_.reset();
    }
  }

  /// For a pass saved in its middle (the engine calls these on every thread's copy, in
  /// thread order): the dense array, still in the map or, once this rank's batches ran
  /// out, already left in `kept` (finish ran on the threads in order, so restoring in
  /// order leaves `kept` as it was). Row by row the map keeps nothing between batches.
  void save_state(pearl::MapStateWriter& w) const {
    if (dense_) {
      w.put<std::uint8_t>(kInMap);
      dense_->save_state(w);
    } else if (dense()) {
      w.put<std::uint8_t>(kKept);
      const std::lock_guard lock(kept_->mutex);
      kept_->arrays.at(kept_at_).save_state(w);
    } else {
      w.put<std::uint8_t>(kNoArray);
    }
  }

  void restore_state(pearl::MapStateReader& r) {
    const auto where = r.get<std::uint8_t>();
    if (where != kNoArray ? !dense() : dense()) r.damaged("table.aggregate's map: dense array or not");
    if (where == kInMap) {
      dense_->restore_state(r);
    } else if (where == kKept) {
      DenseGroups<Value> array = empty_array();
      array.restore_state(r);
      counts_->restarts += array.restarts();
      const std::lock_guard lock(kept_->mutex);
      kept_at_ = kept_->arrays.size();
      kept_->arrays.push_back(std::move(array));
      dense_.reset();
    } else if (where != kNoArray) {
      r.damaged("table.aggregate's map state");
    }
  }

  /// pack(c, v) for the dense array: the key bits of value v of key column c.
  auto packer() const {
    return [this](std::size_t c, std::int64_t v) { return packers_[c](static_cast<std::uint64_t>(v)); };
  }

  /// An empty array with this map's settings.
  [[nodiscard]] DenseGroups<Value> empty_array() const { return DenseGroups<Value>(key_columns_, dense_bytes_); }

 private:
  [[nodiscard]] bool count_only() const noexcept { return plan_.size() == 1; }

  static constexpr std::uint8_t kNoArray = 0, kInMap = 1, kKept = 2;  // where the dense array is

  void fill_values(const TableBatch& batch) {
    values_.assign(batch.rows(), Value{});
    for (std::size_t s = 0; s < plan_.size(); ++s) fill_slot(plan_[s], batch, key_columns_, s, values_);
  }

  /// Rows [first, first + n) to the engine one by one: encoded key and slots (the
  /// slots already filled by fill_values).
  template <class Emit>
  void by_row(const TableBatch& batch, std::size_t first, std::size_t n, Emit& emit) {
    keys_.assign(n, Key{});  // zero-filled: unused key bytes compare equal
    bool packed = false;
    if constexpr (std::is_same_v<Key, PackedKey>) {
      if (!packers_.empty()) {
        for (std::size_t c = 0; c < key_columns_; ++c) pack_column(batch.data(c), first, n, packers_[c], keys_.data());
        packed = true;
      }
    }
    if (!packed) {
      for (std::size_t c = 0; c < key_columns_; ++c) {
        layout_->encode(c, batch.data(c), first, n, reinterpret_cast<unsigned char*>(keys_.data()), sizeof(Key));
      }
      KeyBytes<Key>::finish(keys_.data(), n);
    }
    if (count_only()) {
      Value one{};
      one[0] = 1;
      for (std::size_t i = 0; i < n; ++i) emit(keys_[i], one);
    } else {
      for (std::size_t i = 0; i < n; ++i) emit(keys_[i], values_[first + i]);
    }
    // Reused batch after batch (fresh buffers cost a page fault per 4 KiB, bench/io);
    // ones grown past kKeepScratch are let go.
    if (keys_.capacity() * (sizeof(Key) + sizeof(Value)) > kKeepScratch) {
      keys_ = {};
      values_ = {};
    }
  }

  std::vector<SlotPlan> plan_;
  const KeyLayout* layout_;
  std::size_t key_columns_;
  FoldFn fold_;
  std::shared_ptr<MapCounts> counts_;
  std::shared_ptr<KeptArrays<Value>> kept_;
  std::size_t dense_bytes_ = 0;
  std::vector<KeyPacker> packers_;  // PackedKey of integer columns; empty: encode bytes
  std::optional<DenseGroups<Value>> dense_;
  std::size_t kept_at_ = 0;  // where finish left dense_ in kept_->arrays
  std::vector<Key> keys_;
  std::vector<Value> values_;
};

}  // namespace pearl::jobs::table_aggregate
