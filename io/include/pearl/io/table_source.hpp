// pearl/io/table_source.hpp — this rank's rows of one input table, as TableBatches.
//
// A batch source in core's sense (pearl/core/source.hpp): the engine calls `next()` on
// the main thread until it returns nothing. The source walks this rank's pieces of the
// catalogue shard by shard (one shard open at a time) and reads each piece in batches
// of at most `batch_rows` rows with the projected columns in their contract types.
// Where the datasets are chunked, batch boundaries fall on chunk boundaries (the batch
// size is rounded down to a whole number of chunks), so no chunk is decompressed twice.
//
//   pearl::io::Catalogue cat = pearl::io::Catalogue::build(spec, columns);
//   const auto rows = pearl::io::TableSource::rows_for_budget(columns, std::size_t{64} << 20);
//   pearl::io::TableSource cases(cat, columns, comm.rank(), comm.size(), rows);
//   engine.reduce_by_key<std::uint32_t, std::int64_t>(cases,
//       [](const pearl::TableBatch& b, auto& emit) {
//         auto region = b.column<std::uint32_t>("region_code");
//         for (std::size_t i = 0; i < b.rows(); ++i) emit(region[i], std::int64_t{1});
//       },
//       std::plus<>{});
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "pearl/core/communicator.hpp"
#include "pearl/core/source.hpp"
#include "pearl/core/table.hpp"
#include "pearl/io/catalogue.hpp"
#include "pearl/io/row_checks.hpp"

namespace pearl::io {

class TableReader;

class TableSource {
 public:
  using Batch = TableBatch;

  /// Rank `rank` of `ranks`' share of the table (Catalogue::pieces_for), `projection`
  /// read in batches of at most `batch_rows` rows (at least 1). Shards are opened and
  /// checked lazily, when the source reaches them; errors are InputErrors naming the file.
  TableSource(const Catalogue& catalogue, std::vector<ColumnSpec> projection, int rank, int ranks,
              std::uint64_t batch_rows = std::uint64_t{1} << 16);
  /// The same for `comm`'s rank and size.
  TableSource(const Catalogue& catalogue, std::vector<ColumnSpec> projection, const Communicator& comm,
              std::uint64_t batch_rows = std::uint64_t{1} << 16);
  /// Explicit pieces (any subset of the catalogue's rows), for tests and special runners.
  TableSource(Catalogue catalogue, std::vector<ColumnSpec> projection, std::vector<Piece> pieces,
              std::uint64_t batch_rows);

  TableSource(TableSource&&) noexcept;
  TableSource& operator=(TableSource&&) noexcept;
  ~TableSource();

  /// The next batch (first_row = global row number of its first row), or nothing at the end.
  std::optional<TableBatch> next();
  /// Takes back a batch the caller is done with: a later batch is read into its column
  /// vectors (no allocation, no zero-filling; at most as many kept as were out at once).
  void recycle(TableBatch&& batch);
  /// Moves past the next `batches` batches without reading their rows (shards are
  /// opened for their chunk layout only) and returns how many there were: a resumed
  /// pass skips what it had mapped. With --on-bad-row skip the batches are read and
  /// checked all the same, so that their rejects are listed again.
  std::uint64_t skip(std::uint64_t batches);

  /// Checks every batch read from now on (--on-bad-row): a bad value fails the read,
  /// or its row is dropped from the batch and logged (row_checks.hpp).
  void check_rows(RowChecks checks) { checks_.emplace(std::move(checks)); }

  [[nodiscard]] const std::vector<Piece>& pieces() const noexcept { return pieces_; }
  /// Rows this source delivers in all.
  [[nodiscard]] std::uint64_t rows() const noexcept;

  /// A batch size that keeps one batch of `projection` within about `bytes` of memory
  /// (strings counted at 48 bytes each), at least 1024 rows.
  static std::uint64_t rows_for_budget(const std::vector<ColumnSpec>& projection, std::size_t bytes) noexcept;

 private:
  /// Moves to the piece of the next batch and opens its shard; false at the end.
  bool advance_to_batch();
  Catalogue catalogue_;
  std::vector<ColumnSpec> projection_;
  std::vector<Piece> pieces_;
  std::uint64_t batch_rows_;
  std::size_t piece_ = 0;     // the current piece
  std::uint64_t pos_ = 0;     // next local row to read in the current piece
  std::uint64_t step_ = 0;    // batch size for the open shard, chunk-aligned
  std::size_t open_shard_ = 0;
  std::unique_ptr<TableReader> reader_;
  std::vector<std::vector<ColumnData>> spare_;  // recycled batches' columns
  std::optional<RowChecks> checks_;
};

}  // namespace pearl::io
