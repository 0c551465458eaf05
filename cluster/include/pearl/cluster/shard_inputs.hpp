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
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/communicator.hpp"
#include "pearl/core/memory_accountant.hpp"
#include "pearl/core/table_input.hpp"
#include "pearl/io/catalogue.hpp"
#include "pearl/io/output_writer.hpp"
#include "pearl/io/row_checks.hpp"
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
  /// Collective. `specs` are the `--input` arguments; `batch_bytes` bounds one batch;
  /// `on_bad_row` what a value outside its domain does (io/row_checks.hpp).
  ShardInputs(Communicator& comm, const std::vector<std::string>& specs, std::size_t batch_bytes,
              io::BadRowPolicy on_bad_row = io::BadRowPolicy::fail);

  [[nodiscard]] bool has(const std::string& table) const override;
  [[nodiscard]] std::string where(const std::string& table) const override;
  [[nodiscard]] std::vector<ColumnSpec> columns(const std::string& table) const override;
  [[nodiscard]] std::string unsupported_type(const std::string& table, const std::string& column) const override;
  /// Reads the `requested` columns and those of check_always(table) (appended after
  /// them), checking values with --on-bad-row's policy.
  TableInput open(const std::string& table, const std::vector<ColumnSpec>& requested) override;
  /// The columns of `table` (a job's declared ones) whose contract domains are checked on
  /// every read of the table, also by a read that does not ask for them, so that every
  /// pass over the input sets aside the same rows. Columns without a domain are ignored.
  void check_always(const std::string& table, const std::vector<ColumnSpec>& columns);
  /// Collective: checks that every shard of `table` has `columns`, each convertible to
  /// its type without loss; throws InputError naming file, table and column otherwise.
  void validate(const std::string& table, const std::vector<ColumnSpec>& columns);

  /// Every shard read, with size and modification time, for the output's attributes.
  [[nodiscard]] std::vector<io::InputFileInfo> files() const;
  /// This rank's rows set aside by --on-bad-row skip so far.
  [[nodiscard]] const io::RejectLog& rejects() const noexcept { return *rejects_; }
  [[nodiscard]] const ReadCounters& counters() const noexcept { return counters_; }
  /// Keeps the lease that `batch_bytes` came from (the rank's MemoryAccountant) as long as
  /// the inputs are open.
  void hold(MemoryLease batches) { batches_ = std::move(batches); }

 private:
  [[nodiscard]] const io::Catalogue& catalogue(const std::string& table) const;
  Communicator& comm_;
  std::size_t batch_bytes_;
  MemoryLease batches_;
  io::BadRowPolicy on_bad_row_;
  std::shared_ptr<io::RejectLog> rejects_;
  std::vector<io::Catalogue> catalogues_;
  mutable std::map<std::string, std::vector<ColumnSpec>> columns_cache_;
  mutable std::map<std::string, std::map<std::string, std::string>> unsupported_cache_;  // name → stored type
  std::vector<std::pair<std::string, std::vector<ColumnSpec>>> validated_;
  std::map<std::string, std::vector<ColumnSpec>> always_checked_;
  ReadCounters counters_;
};

}  // namespace pearl::cluster
