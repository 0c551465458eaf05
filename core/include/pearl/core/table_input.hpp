// pearl/core/table_input.hpp — a job's view of an input table, without HDF5.
//
// The runner knows where the `--input NAME=GLOB[:/path]` shards are and how to read
// them (pearl::io); a job only asks for a table by name and the columns it needs, in the
// contract types it wants, and gets this rank's rows as batches:
//
//   pearl::TableInput cases = ctx.input("cases", {{"region_code", pearl::DType::u32},
//                                                 {"age_years", pearl::DType::u8}});
//   auto counts = ctx.engine().reduce_by_key<std::uint32_t, std::int64_t>(
//       cases, [](const pearl::TableBatch& b, auto& emit) { ... }, std::plus<>{});
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pearl/core/table.hpp"

namespace pearl {

/// Implemented by the io layer: yields this rank's batches of one table.
class TableReaderBase {
 public:
  TableReaderBase() = default;
  TableReaderBase(const TableReaderBase&) = delete;
  TableReaderBase& operator=(const TableReaderBase&) = delete;
  virtual ~TableReaderBase() = default;
  virtual std::optional<TableBatch> next() = 0;
  /// Takes a mapped batch back; a reader may read a later batch into its memory.
  virtual void recycle(TableBatch&& /*batch*/) {}
  /// Moves past the next `batches` batches (a resumed pass: see SeekableSource) and
  /// returns how many there were. This default reads them; a reader that can find its
  /// batch boundaries without reading rows overrides it.
  virtual std::uint64_t skip(std::uint64_t batches) {
    std::uint64_t n = 0;
    for (; n < batches; ++n) {
      auto b = next();
      if (!b) break;
      recycle(std::move(*b));
    }
    return n;
  }
};

/// A batch source (see source.hpp) over one input table: one virtual call per batch,
/// never per row.
class TableInput {
 public:
  using Batch = TableBatch;
  TableInput(std::unique_ptr<TableReaderBase> reader, std::uint64_t total_rows)
      : reader_(std::move(reader)), total_rows_(total_rows) {}
  std::optional<TableBatch> next() { return reader_->next(); }
  /// The engine hands each batch back once it is mapped (RecyclingSource).
  void recycle(TableBatch&& batch) { reader_->recycle(std::move(batch)); }
  /// Passes over this rank's next `batches` batches (SeekableSource).
  std::uint64_t skip(std::uint64_t batches) { return reader_->skip(batches); }
  /// Rows of the table over all shards and ranks.
  [[nodiscard]] std::uint64_t total_rows() const noexcept { return total_rows_; }

 private:
  std::unique_ptr<TableReaderBase> reader_;
  std::uint64_t total_rows_;
};

/// What a job may ask of its inputs; the runner provides it.
class InputProvider {
 public:
  InputProvider() = default;
  InputProvider(const InputProvider&) = delete;
  InputProvider& operator=(const InputProvider&) = delete;
  virtual ~InputProvider() = default;

  /// Whether `--input NAME=...` was given.
  [[nodiscard]] virtual bool has(const std::string& table) const = 0;
  /// Where the table comes from, for messages: "input 'cases' (data/cases-*.h5:/cases)".
  [[nodiscard]] virtual std::string where(const std::string& table) const = 0;
  /// The table's columns with the contract type each stored column converts to
  /// losslessly (its natural type: stored width and signedness, strings as str).
  [[nodiscard]] virtual std::vector<ColumnSpec> columns(const std::string& table) const = 0;
  /// The stored type of `column` when the table has it but no contract type can hold it
  /// ("compound {r float64, i float64}"), else empty. Collective, like `columns`.
  [[nodiscard]] virtual std::string unsupported_type(const std::string& /*table*/, const std::string& /*column*/) const {
    return {};
  }
  /// Opens this rank's share of the table, reading only `columns` (converted to the types
  /// given). Collective. Throws InputError naming the file, table and column when a
  /// column is missing or does not convert.
  virtual TableInput open(const std::string& table, const std::vector<ColumnSpec>& columns) = 0;
};

}  // namespace pearl
