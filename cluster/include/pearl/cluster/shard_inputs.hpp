// pearl/cluster/shard_inputs.hpp — the runner's InputProvider over `--input` shards.
//
// Rank 0 expands every `--input NAME=GLOB[:/path]`, opens each shard once to validate it
// and count its rows, and broadcasts the catalogues; every rank then reads its own
// balanced share of each table. Problems (empty glob, missing file, missing table or
// column, unconvertible type) are InputErrors raised before any work, on every rank.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/communicator.hpp"
#include "pearl/core/table_input.hpp"
#include "pearl/io/catalogue.hpp"
#include "pearl/io/output_writer.hpp"
#include "pearl/io/stored_type.hpp"

namespace pearl::cluster {

/// What this rank has read so far, for progress (read from another thread) and metrics.
struct ReadCounters {
  std::atomic<std::uint64_t> rows{0};           // rows delivered in batches
  std::atomic<std::uint64_t> bytes{0};          // their bytes in memory (strings: their characters)
  std::atomic<std::uint64_t> rows_expected{0};  // this rank's share of every table opened so far
  std::atomic<std::uint64_t> rows_total{0};     // all ranks' rows of every table opened so far
};

/// The contract type a stored column is read as when a job asks for "its own" type:
/// the contract's type for contract columns, else the narrowest type holding it.
DType natural_type(const io::StoredType& s);

class ShardInputs final : public InputProvider {
 public:
  /// Collective. `specs` are the `--input` arguments; `batch_bytes` bounds one batch.
  ShardInputs(Communicator& comm, const std::vector<std::string>& specs, std::size_t batch_bytes);

  [[nodiscard]] bool has(const std::string& table) const override;
  [[nodiscard]] std::string where(const std::string& table) const override;
  [[nodiscard]] std::vector<ColumnSpec> columns(const std::string& table) const override;
  TableInput open(const std::string& table, const std::vector<ColumnSpec>& columns) override;
  /// Collective: checks that every shard of `table` has `columns`, each convertible to
  /// its type without loss; throws InputError naming file, table and column otherwise.
  void validate(const std::string& table, const std::vector<ColumnSpec>& columns);

  /// Every shard read, with size and modification time, for the output's attributes.
  [[nodiscard]] std::vector<io::InputFileInfo> files() const;
  [[nodiscard]] std::vector<std::string> names() const;
  [[nodiscard]] const ReadCounters& counters() const noexcept { return counters_; }

 private:
  [[nodiscard]] const io::Catalogue& catalogue(const std::string& table) const;
  Communicator& comm_;
  std::size_t batch_bytes_;
  std::vector<io::Catalogue> catalogues_;
  mutable std::map<std::string, std::vector<ColumnSpec>> columns_cache_;
  std::vector<std::pair<std::string, std::vector<ColumnSpec>>> validated_;
  ReadCounters counters_;
};

}  // namespace pearl::cluster
