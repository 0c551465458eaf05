// pearl/io/atomic_output.hpp — a result file appears whole at its final path, or not at all.
//
// Write to `temp_path()` (beside the target, so the rename stays on one file system),
// then `commit()`: fsync the file, rename it onto the target (replacing any old file
// atomically), fsync the directory. Anything else — an exception, `discard()`, the
// destructor — removes the temporary file. While uncommitted, the temporary path is
// registered with `remove_on_signal`, so a signal that ends the process unlinks it.
//
// Rank 0 owns the AtomicOutput; every rank writes to the same temporary path, and the
// rename happens only after every rank agreed that it succeeded:
//
//   std::optional<pearl::io::AtomicOutput> out;
//   std::string temp;                                    // rank 0 picks, all learn it
//   if (comm.rank() == 0) { out.emplace(target); temp = out->temp_path().string(); }
//   temp = broadcast_string(comm, temp);                 // any broadcast of the path
//   pearl::io::write_tables(comm, temp, parts, info);    // collective; throws everywhere on failure
//   pearl::agreed(comm, [&] { if (out) out->commit(); });
//
// An AtomicOutput whose write threw is destroyed during unwinding and removes its file.
#pragma once

#include <filesystem>
#include <vector>

namespace pearl::io {

class AtomicOutput {
 public:
  /// Picks `<dir>/.<name>.tmp@<host>+<pid>-<random>` for target `<dir>/<name>` (the
  /// stamp lets a later run remove it if this process dies: remove_dead_temporaries);
  /// creates nothing. The committed file gets permissions `mode` exactly. `replace`
  /// false: commit never replaces an existing target (one that appeared meanwhile is an
  /// InputError). Throws pearl::Error if the target is a directory or its directory
  /// does not exist.
  explicit AtomicOutput(std::filesystem::path target, unsigned mode = 0640, bool replace = true);
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  AtomicOutput(AtomicOutput&& other) noexcept;
  AtomicOutput& operator=(AtomicOutput&& other) noexcept;
  /// Discards unless committed. Never throws.
  ~AtomicOutput();

  [[nodiscard]] const std::filesystem::path& target() const noexcept { return target_; }
  [[nodiscard]] const std::filesystem::path& temp_path() const noexcept { return temp_; }
  [[nodiscard]] bool committed() const noexcept { return committed_; }

  /// Creates the temporary file, empty and private (0600), so that nothing written to it
  /// is readable by others before commit gives it its mode. Optional: writers that
  /// create the file themselves keep its mode until commit.
  void create();
  /// The first half of commit: chmod(temp, mode), fsync(temp). Lets several outputs be
  /// made ready before any of them is renamed (OutputSet). Idempotent; throws
  /// pearl::Error (and removes the temporary) if the file is missing or cannot be synced.
  void prepare();
  /// prepare(), rename(temp, target), fsync(directory). Throws
  /// pearl::Error naming the paths and the system error; the temporary file is removed
  /// if the rename failed.
  void commit();
  /// Removes the temporary file if it exists. Never throws; idempotent.
  void discard() noexcept;

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  unsigned mode_ = 0640;
  bool replace_ = true;
  bool prepared_ = false;  // mode set and synced: only the rename is left
  bool committed_ = false;
  bool active_ = false;  // owns temp_ (not moved from, not yet committed/discarded)
};

/// Removes the temporary outputs in `dir` (`.<name>.tmp@<host>+<pid>-...`) of runs on
/// this host whose process is gone (killed before they could clean up); returns them.
std::vector<std::filesystem::path> remove_dead_temporaries(const std::filesystem::path& dir);

/// Registers `path` to be unlinked when the process dies of SIGINT or SIGTERM. In the
/// `pearl` program the signal handlers belong to cluster/ (signals.hpp): the first
/// signal asks the run to stop at its next safe point, where unwinding removes the
/// temporaries; a second one calls `remove_registered_temporaries` and dies of it. A
/// program without handlers of its own (tests, tools) gets this file's fallback: remove
/// every registered path, restore the default action and re-raise the signal, so the
/// exit status still says "killed by signal". Up to 16 paths at once (more:
/// pearl::Error); paths longer than 4095 bytes are refused with pearl::Error. Call from
/// the main thread.
void remove_on_signal(const std::filesystem::path& path);
/// Undoes remove_on_signal for `path` (no effect if it is not registered). Never throws.
void forget_on_signal(const std::filesystem::path& path) noexcept;
/// Unlinks every registered path. Async-signal-safe (fixed buffers, lock-free atomics,
/// unlink): for a signal handler that is about to end the process.
void remove_registered_temporaries() noexcept;

}  // namespace pearl::io
