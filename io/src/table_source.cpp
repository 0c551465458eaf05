// The table batch source: pieces → shards → chunk-aligned batches.
#include "pearl/io/table_source.hpp"

#include <algorithm>

#include "pearl/io/table_reader.hpp"

namespace pearl::io {

namespace {
/// Bytes a batch aims at when the caller's batch_rows allows more: a few MiB stays in
/// the caches between the read and the map, and glibc's malloc recycles blocks this size
/// (measured with bench/io: batches of 128 MiB spent most of their time in page faults).
constexpr std::size_t kCacheBatchBytes = std::size_t{2} << 20;
}  // namespace

TableSource::TableSource(const Catalogue& catalogue, std::vector<ColumnSpec> projection, int rank, int ranks,
                         std::uint64_t batch_rows)
    : TableSource(catalogue, std::move(projection), catalogue.pieces_for(rank, ranks), batch_rows) {}

TableSource::TableSource(const Catalogue& catalogue, std::vector<ColumnSpec> projection, const Communicator& comm,
                         std::uint64_t batch_rows)
    : TableSource(catalogue, std::move(projection), comm.rank(), comm.size(), batch_rows) {}

TableSource::TableSource(Catalogue catalogue, std::vector<ColumnSpec> projection, std::vector<Piece> pieces,
                         std::uint64_t batch_rows)
    : catalogue_(std::move(catalogue)), projection_(std::move(projection)), pieces_(std::move(pieces)),
      batch_rows_(std::max<std::uint64_t>(1, batch_rows)) {
  if (projection_.empty()) throw Error("input '" + catalogue_.name() + "': no columns to read");
  for (const auto& p : pieces_) {
    if (p.shard >= catalogue_.shards().size() || p.end > catalogue_.shards()[p.shard].rows || p.begin > p.end) {
      throw Error("input '" + catalogue_.name() + "': a piece lies outside the catalogue's shards");
    }
  }
  if (!pieces_.empty()) pos_ = pieces_.front().begin;
}

TableSource::TableSource(TableSource&&) noexcept = default;
TableSource& TableSource::operator=(TableSource&&) noexcept = default;
TableSource::~TableSource() = default;

std::uint64_t TableSource::rows() const noexcept {
  std::uint64_t n = 0;
  for (const auto& p : pieces_) n += p.rows();
  return n;
}

std::optional<TableBatch> TableSource::next() {
  if (!advance_to_batch()) return std::nullopt;
  const Piece& p = pieces_[piece_];
  // Boundaries at multiples of step_ in the shard's own rows: chunk boundaries.
  const std::uint64_t end = std::min(p.end, (pos_ / step_ + 1) * step_);
  std::vector<ColumnData> data;
  if (!spare_.empty()) {
    data = std::move(spare_.back());
    spare_.pop_back();
  }
  reader_->read_into(projection_, pos_, end, data);
  if (checks_) checks_->apply(reader_->info().where(), catalogue_.shards()[p.shard].file.string(), pos_, data);
  const std::uint64_t first = catalogue_.shards()[p.shard].first_row + pos_;
  pos_ = end;
  if (pos_ >= p.end && piece_ + 1 >= pieces_.size()) reader_.reset();  // done: close the last shard now
  return TableBatch(catalogue_.name(), first, projection_, std::move(data));
}

std::uint64_t TableSource::skip(std::uint64_t batches) {
  std::uint64_t n = 0;
  for (; n < batches && advance_to_batch(); ++n) {
    const Piece& p = pieces_[piece_];
    const std::uint64_t end = std::min(p.end, (pos_ / step_ + 1) * step_);  // where next() would have read to
    if (checks_ && checks_->logs_rejects()) {
      // --on-bad-row skip lists every bad row in the output: read the batch for them
      // (the map never sees it again).
      std::vector<ColumnData> data;
      reader_->read_into(projection_, pos_, end, data);
      checks_->apply(reader_->info().where(), catalogue_.shards()[p.shard].file.string(), pos_, data);
    }
    pos_ = end;
    if (pos_ >= p.end && piece_ + 1 >= pieces_.size()) reader_.reset();
  }
  return n;
}

bool TableSource::advance_to_batch() {
  while (piece_ < pieces_.size()) {
    const Piece& p = pieces_[piece_];
    if (pos_ >= p.end) {
      if (++piece_ < pieces_.size()) pos_ = pieces_[piece_].begin;
      continue;
    }
    if (!reader_ || open_shard_ != p.shard) {
      reader_.reset();  // one shard open at a time
      const Shard& shard = catalogue_.shards()[p.shard];
      auto reader = std::make_unique<TableReader>(shard.file, catalogue_.path());
      reader->check(projection_);
      if (reader->rows() != shard.rows) {
        throw InputError(reader->info().where() + ": has " + std::to_string(reader->rows()) + " rows, but had " +
                         std::to_string(shard.rows) + " when the inputs were catalogued (file changed during the run?)");
      }
      // Batches of about kCacheBatchBytes (at most batch_rows_): the map then reads a
      // batch while it is still in cache, and the allocator reuses the freed blocks of
      // the last batch instead of mapping fresh pages for every one. Whole chunks per
      // batch when a chunk fits batch_rows_ (so no chunk is decompressed twice);
      // otherwise the batch size as is.
      const std::uint64_t chunk = reader->chunk_rows(projection_);
      const std::uint64_t small = std::min(batch_rows_, rows_for_budget(projection_, kCacheBatchBytes));
      step_ = chunk > 0 && chunk <= batch_rows_ ? std::max(chunk, small - small % chunk)
              : chunk > 0                       ? batch_rows_
                                                : small;
      reader_ = std::move(reader);
      open_shard_ = p.shard;
    }
    return true;
  }
  return false;
}

void TableSource::recycle(TableBatch&& batch) { spare_.push_back(std::move(batch).take_data()); }

std::uint64_t TableSource::rows_for_budget(const std::vector<ColumnSpec>& projection, std::size_t bytes) noexcept {
  std::size_t per_row = 0;
  for (const auto& c : projection) {
    per_row += c.type == DType::str ? 48 : dtype_width(c.type);  // a string: std::string (32) + a short heap text
  }
  return std::max<std::uint64_t>(1024, bytes / std::max<std::size_t>(1, per_row));
}

}  // namespace pearl::io
