// pearl/core/source.hpp — where a map's batches come from.
//
// A *batch source* hands out this rank's batches one at a time on the main thread; the
// engine maps each batch on a worker thread. Any type with
//     using Batch = ...;   std::optional<Batch> next();
// is a source: table readers (pearl::io) are one, `RangeSource` below is the simplest.
//
//   pearl::RangeSource rows(comm, 50'000'000);           // this rank's share of 0..N-1
//   engine.reduce_by_key<std::int64_t, double>(rows,
//       [&](pearl::RowRange r, auto& emit) { for (auto i = r.begin; i < r.end; ++i) emit(key[i], 1.0); },
//       std::plus<>{});
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <optional>
#include <utility>

#include "pearl/core/communicator.hpp"

namespace pearl {

template <class S>
concept BatchSource = requires(S& s) {
  typename S::Batch;
  { s.next() } -> std::same_as<std::optional<typename S::Batch>>;
};

/// A source that takes its batches back once they are mapped, to reuse their memory
/// (table readers do: their next batch is read into the last one's column vectors).
template <class S>
concept RecyclingSource = BatchSource<S> && requires(S& s, typename S::Batch&& b) { s.recycle(std::move(b)); };

/// A source that can pass over batches without reading them: `skip(n)` moves past this
/// rank's next n batches (exactly those next() would have returned) and says how many
/// there were. A pass resumed from a checkpoint skips the batches it had mapped.
template <class S>
concept SeekableSource = BatchSource<S> && requires(S& s, std::uint64_t n) {
  { s.skip(n) } -> std::same_as<std::uint64_t>;
};

/// Rows [begin, end) of a global row space.
struct RowRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  [[nodiscard]] std::uint64_t size() const noexcept { return end - begin; }
};

/// The balanced contiguous share of rows [0, total) that rank `rank` of `ranks` owns.
constexpr RowRange share_of(std::uint64_t total, int rank, int ranks) noexcept {
  // floor(total * r / p) without overflow: total = q p + m gives q r + floor(m r / p).
  const auto p = static_cast<std::uint64_t>(ranks);
  const auto bound = [&](std::uint64_t r) { return total / p * r + total % p * r / p; };
  return {bound(static_cast<std::uint64_t>(rank)), bound(static_cast<std::uint64_t>(rank) + 1)};
}

/// This rank's share of a global row space, in batches of at most `batch_rows` rows.
class RangeSource {
 public:
  using Batch = RowRange;
  RangeSource(const Communicator& comm, std::uint64_t total_rows, std::uint64_t batch_rows = 1 << 16)
      : share_(share_of(total_rows, comm.rank(), comm.size())), next_(share_.begin),
        batch_rows_(std::max<std::uint64_t>(1, batch_rows)) {}

  std::optional<Batch> next() {
    if (next_ >= share_.end) return std::nullopt;
    const RowRange b{next_, std::min(share_.end, next_ + batch_rows_)};
    next_ = b.end;
    return b;
  }
  std::uint64_t skip(std::uint64_t batches) {
    std::uint64_t n = 0;
    for (; n < batches && next_ < share_.end; ++n) next_ = std::min(share_.end, next_ + batch_rows_);
    return n;
  }
  [[nodiscard]] RowRange share() const noexcept { return share_; }

 private:
  RowRange share_;
  std::uint64_t next_;
  std::uint64_t batch_rows_;
};

}  // namespace pearl
