// pearl/core/checkpoint.hpp — a run's checkpoint: what it was, and the results of the
// engine operations it completed, in a directory beside the output.
//
//   out.h5.checkpoint/manifest          identity lines, then one line per saved operation
//   out.h5.checkpoint/op-3/rank-1.mem   rank 1's in-memory run of operation 3's result
//   out.h5.checkpoint/op-3/rank-1.run-0 its spilled runs, copied (merged later in this order)
//   out.h5.checkpoint/pass-4.2/rank-1.state  operation 4 in the middle of its map phase:
//   out.h5.checkpoint/pass-4.2/rank-1.run-0  rank 1's sinks and input position, its spilled runs
//
// The runner builds the identity (job, parameters, inputs with size and mtime, ranks,
// threads, memory), and on --resume compares it with the manifest's: any difference is
// an InputError naming what changed. The engine numbers its collective operations
// (reduce_by_key, group_by_key, sort_globally) in the order the job calls them, saves a
// result at the end of an operation when the checkpoint is due, and on resume returns a
// saved result instead of running the operation again (detail/checkpoint_ops.hpp).
//
//   auto cp = std::make_shared<pearl::Checkpoint>(dir, comm.rank(), std::chrono::minutes(5));
//   cp->start(identity, manifest_text_or_empty);   // every rank, same arguments
//   EngineOptions{.checkpoint = cp, ...}
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pearl {

/// One saved engine operation, as its manifest line records it.
struct SavedOperation {
  std::size_t index = 0;
  std::string kind;           // reduce_by_key, group_by_key, sort_globally
  std::size_t pair_bytes = 0; // serialised key + value size: a cheap check of the types
  std::uint64_t batches = 0;  // input batches it mapped (rank 0), for the resume log
  std::uint64_t pairs = 0;    // result pairs over all ranks, for the resume log
};

/// An operation saved in the middle of its map phase (detail/pass_checkpoint.hpp): every
/// rank's sinks, spilled runs and input position at a meeting of the ranks.
struct SavedPass {
  std::size_t index = 0;
  std::uint64_t save = 0;         // which save of the pass: its directory (a crash mid-save leaves the last one whole)
  std::string kind;
  std::size_t pair_bytes = 0;
  std::uint64_t batches = 0;      // input batches mapped on rank 0
  std::uint64_t all_batches = 0;  // on all ranks
};

/// (key, value) lines that say what a checkpoint was written for, in a fixed order.
using CheckpointIdentity = std::vector<std::pair<std::string, std::string>>;

class Checkpoint {
 public:
  /// `every`: the least time between two saves (0: at every operation boundary).
  Checkpoint(std::filesystem::path dir, int rank, std::chrono::seconds every);

  /// Every rank, with the same arguments: `manifest` is the text of an earlier run's
  /// manifest to resume from (empty: start over). Throws InputError naming every
  /// identity line that differs.
  void start(CheckpointIdentity identity, const std::string& manifest);

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] std::filesystem::path op_dir(std::size_t op) const;
  [[nodiscard]] std::filesystem::path rank_file(std::size_t op, const std::string& suffix) const;
  /// The saved operation `op` of the run resumed from, if any.
  [[nodiscard]] const SavedOperation* saved(std::size_t op) const;
  /// Operations restored so far, their batches (rank 0) and pairs: the resume log.
  [[nodiscard]] std::size_t restored() const noexcept { return restored_; }
  [[nodiscard]] std::uint64_t restored_batches() const noexcept { return restored_batches_; }
  [[nodiscard]] std::uint64_t restored_pairs() const noexcept { return restored_pairs_; }
  void count_restored(const SavedOperation& op);
  /// Operations the checkpoint holds now (restored ones included).
  [[nodiscard]] std::size_t saved_operations() const noexcept { return written_.size(); }

  /// Save `save` of operation `op`'s mid-pass state: its directory and this rank's files.
  [[nodiscard]] std::filesystem::path pass_dir(std::size_t op, std::uint64_t save) const;
  [[nodiscard]] std::filesystem::path pass_file(std::size_t op, std::uint64_t save, const std::string& suffix) const;
  /// The number of operation `op`'s next mid-pass save.
  [[nodiscard]] std::uint64_t next_pass_save(std::size_t op) const;
  /// Operation `op`'s mid-pass state in the run resumed from, if any.
  [[nodiscard]] const SavedPass* saved_pass(std::size_t op) const;
  /// Rank 0 records it in the manifest, then removes the pass's earlier saves (every rank
  /// calls: all keep the same view).
  void commit_pass(const SavedPass& pass);
  /// Whether the checkpoint holds a pass in progress now.
  [[nodiscard]] bool holds_pass() const noexcept { return !passes_written_.empty(); }
  /// Input batches (all ranks) the passes resumed so far did not read again.
  [[nodiscard]] std::uint64_t skipped_batches() const noexcept { return skipped_batches_; }
  void count_skipped(std::uint64_t batches) noexcept { skipped_batches_ += batches; }

  /// Whether `every` has passed since the start or the last save (this rank's clock).
  [[nodiscard]] bool due() const;
  /// Rank 0: records `op` in the manifest (rewritten whole, then renamed into place); its
  /// mid-pass state, if any, is superseded.
  void commit(const SavedOperation& op);
  /// Every rank after the commit: restarts the clock; the testing hold (after a saved
  /// operation: PEARL_TEST_HOLD_AFTER_CHECKPOINT; after a pass of operation `op` saved
  /// mid-way: PEARL_TEST_HOLD_AFTER_PASS_SAVE, only for PEARL_TEST_HOLD_PASS_OPERATION if set).
  void saved_now(bool mid_pass = false, std::size_t op = 0);
  /// Rank 0 after a successful run: removes the directory. Never throws.
  void remove() noexcept;

  /// The manifest's text in `dir`, or empty when there is none.
  static std::string read_manifest(const std::filesystem::path& dir);

 private:
  [[nodiscard]] std::string manifest_text() const;
  std::filesystem::path dir_;
  int rank_;
  std::chrono::seconds every_;
  std::chrono::steady_clock::time_point last_save_ = std::chrono::steady_clock::now();
  CheckpointIdentity identity_;
  std::map<std::size_t, SavedOperation> resumed_;  // from the earlier run
  std::map<std::size_t, SavedOperation> written_;  // by this run (kept across resumes)
  std::map<std::size_t, SavedPass> passes_resumed_;
  std::map<std::size_t, SavedPass> passes_written_;
  std::uint64_t skipped_batches_ = 0;
  void write_manifest() const;
  std::size_t restored_ = 0;
  std::uint64_t restored_batches_ = 0;
  std::uint64_t restored_pairs_ = 0;
};

}  // namespace pearl
