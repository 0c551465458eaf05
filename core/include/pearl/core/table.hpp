// pearl/core/table.hpp — tables as a job sees them: typed columns in batches.
//
// Readers (pearl::io) deliver a table as `TableBatch`es: a bounded number of rows with
// one contiguous array per requested column, already converted to the contract type.
// Jobs build results as `OutputTable`s: named, typed columns appended row by row (in
// key order), which the runner writes. No HDF5 or MPI appears here.
//
//   void map(const pearl::TableBatch& b, auto& emit) {
//     auto region = b.column<std::uint32_t>("region_code");
//     auto age = b.column<std::uint8_t>("age_years");
//     for (std::size_t i = 0; i < b.rows(); ++i) emit(region[i], age[i]);
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "pearl/core/error.hpp"
#include "pearl/core/memory_accountant.hpp"

namespace pearl {

class SpilledRows;  // pearl/core/spilled_rows.hpp

/// The element types a column may have (the contract's types).
enum class DType : std::uint8_t { u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, str };

/// "uint32", "float64", "string", ...
std::string_view dtype_name(DType t) noexcept;
/// Parses dtype_name's names; throws InputError otherwise.
DType parse_dtype(std::string_view name);

/// Bytes per value of a numeric type (0 for strings).
std::size_t dtype_width(DType t) noexcept;
bool dtype_is_integer(DType t) noexcept;
bool dtype_is_float(DType t) noexcept;
bool dtype_is_signed(DType t) noexcept;

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<std::uint8_t>() { return DType::u8; }
template <> constexpr DType dtype_of<std::uint16_t>() { return DType::u16; }
template <> constexpr DType dtype_of<std::uint32_t>() { return DType::u32; }
template <> constexpr DType dtype_of<std::uint64_t>() { return DType::u64; }
template <> constexpr DType dtype_of<std::int8_t>() { return DType::i8; }
template <> constexpr DType dtype_of<std::int16_t>() { return DType::i16; }
template <> constexpr DType dtype_of<std::int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<std::string>() { return DType::str; }

struct ColumnSpec {
  std::string name;
  DType type;
  /// Strings only: the most bytes a value may have, because the job keeps it in a
  /// fixed-width field (a FixedString<N>: use pearl::fixed_string_column); 0 = any
  /// length. A longer value is a bad row of the input, like a value outside its domain:
  /// an input error naming file, table, column and row, or set aside by --on-bad-row skip.
  std::size_t max_bytes = 0;
  friend bool operator==(const ColumnSpec&, const ColumnSpec&) = default;
};

/// One column's values: a vector of the column's element type.
using ColumnData = std::variant<std::vector<std::uint8_t>, std::vector<std::uint16_t>, std::vector<std::uint32_t>,
                                std::vector<std::uint64_t>, std::vector<std::int8_t>, std::vector<std::int16_t>,
                                std::vector<std::int32_t>, std::vector<std::int64_t>, std::vector<float>,
                                std::vector<double>, std::vector<std::string>>;

/// An empty ColumnData holding the vector type of `t`.
ColumnData make_column(DType t);
std::size_t column_size(const ColumnData& c) noexcept;

/// Rows [first_row, first_row + rows()) of a table (row numbers global over all shards,
/// in shard order), with the columns that were asked for.
class TableBatch {
 public:
  TableBatch() = default;
  TableBatch(std::string table, std::uint64_t first_row, std::vector<ColumnSpec> specs, std::vector<ColumnData> data);

  [[nodiscard]] const std::string& table() const noexcept { return table_; }
  [[nodiscard]] std::uint64_t first_row() const noexcept { return first_row_; }
  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] const std::vector<ColumnSpec>& specs() const noexcept { return specs_; }

  /// The values of column `name` as T, which must be its contract type exactly.
  template <class T>
  [[nodiscard]] std::span<const T> column(std::string_view name) const {
    const std::size_t i = index_of(name);
    const auto* v = std::get_if<std::vector<T>>(&data_[i]);
    if (v == nullptr) {
      throw Error("table '" + table_ + "': column '" + std::string(name) + "' is " +
                  std::string(dtype_name(specs_[i].type)) + ", not " + std::string(dtype_name(dtype_of<T>())));
    }
    return *v;
  }
  [[nodiscard]] const ColumnData& data(std::size_t i) const { return data_.at(i); }
  [[nodiscard]] std::size_t index_of(std::string_view name) const;

  /// Moves the column vectors out (the batch is left empty), so that a source can read
  /// its next batch into their memory.
  [[nodiscard]] std::vector<ColumnData> take_data() && noexcept {
    rows_ = 0;
    specs_.clear();
    return std::move(data_);
  }

 private:
  std::string table_;
  std::uint64_t first_row_ = 0;
  std::size_t rows_ = 0;
  std::vector<ColumnSpec> specs_;
  std::vector<ColumnData> data_;
};

/// A result table under construction: columns declared up front, rows appended in
/// key order. Each rank builds its part; the runner writes all parts in rank order.
/// `rows()` and `data()` are the rows in memory; with `spill_past`, earlier rows may be on
/// scratch (`spilled()`), and `total_rows()` counts both.
class OutputTable {
 public:
  OutputTable(std::string name, std::vector<ColumnSpec> specs);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::vector<ColumnSpec>& specs() const noexcept { return specs_; }
  [[nodiscard]] std::size_t rows() const noexcept { return column_size(data_.front()); }
  [[nodiscard]] const ColumnData& data(std::size_t i) const { return data_.at(i); }
  ColumnData& data(std::size_t i) { return data_.at(i); }

  /// The column `i` as a vector of T (its declared type) to append to.
  template <class T>
  std::vector<T>& column(std::size_t i) {
    auto* v = std::get_if<std::vector<T>>(&data_.at(i));
    if (v == nullptr) throw Error("output table '" + name_ + "': column " + specs_[i].name + " has another type");
    return *v;
  }

  /// Appends one row; `values` must match the declared columns in order and type.
  template <class... Ts>
  void append(const Ts&... values) {
    if (sizeof...(Ts) != specs_.size()) throw Error("output table '" + name_ + "': row has the wrong number of values");
    std::size_t i = 0;
    (column<std::conditional_t<std::is_convertible_v<Ts, std::string_view> && !std::is_arithmetic_v<Ts>, std::string, Ts>>(i++)
         .push_back(values),
     ...);
    if (spill_limit_ != 0) spill_if_full();
  }

  /// Bounds the rows held in memory, for outputs larger than memory: once they take
  /// `bytes` or more they move to a file in a private scratch directory under
  /// `scratch_parent` (empty: $TMPDIR or /tmp) and the columns start again empty. The
  /// output writers read the moved rows back in rounds, before the rows in memory.
  /// `append` checks after every row; a job that fills columns directly calls
  /// `spill_if_full()` after each stretch. Copies of the table share the moved rows.
  void spill_past(std::size_t bytes, std::filesystem::path scratch_parent = {});
  /// The same within a lease from the rank's MemoryAccountant, kept (by the table and its
  /// copies) until the rows are written: `out.spill_past(ctx.memory().lease(...), scratch)`.
  void spill_past(MemoryLease share, std::filesystem::path scratch_parent = {});
  /// Moves the rows in memory to scratch if they take `spill_past`'s bytes or more.
  void spill_if_full();
  /// Rows moved to scratch (they precede rows()), and all rows.
  [[nodiscard]] std::uint64_t spilled_rows() const noexcept;
  [[nodiscard]] std::uint64_t total_rows() const { return spilled_rows() + rows(); }
  /// The rows moved to scratch, null when none were (what the output writers read).
  [[nodiscard]] const SpilledRows* spilled() const noexcept { return spilled_.get(); }

 private:
  std::string name_;
  std::vector<ColumnSpec> specs_;
  std::vector<ColumnData> data_;
  // spill_past's state: the limit (0: never), where, and the bytes counted so far.
  std::size_t spill_limit_ = 0;
  std::filesystem::path spill_parent_;
  std::size_t counted_rows_ = 0, counted_bytes_ = 0;
  std::shared_ptr<SpilledRows> spilled_;
  std::shared_ptr<MemoryLease> share_;  // spill_past's lease, if it was given one
};

}  // namespace pearl
