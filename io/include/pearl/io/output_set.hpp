// pearl/io/output_set.hpp — a run's result files: checked before any work, committed together.
//
// Every file a run writes (the --output HDF5 file, the --csv copies, later a metrics
// file) is an artefact of one OutputSet. `add` checks the target (never an input, never
// a device, a directory or a link, never an existing file without `overwrite`, never a
// read-only one) and reserves a private temporary beside it; the job writes the
// temporaries; `commit` gives each its mode and renames them into place only after all
// of them are complete. Until then — an exception, a failed artefact, the destructor —
// every temporary is removed and no target is touched:
//
//   pearl::io::OutputSet set({.overwrite = false, .mode = 0640, .inputs = shard_paths});
//   const auto h5 = set.add("out.h5", "--output");               // InputError if refused
//   const auto csv = set.add("csv/table.csv", "--csv");
//   ... write h5 and csv ...
//   set.commit();                                               // both appear, or neither
//
// Rank 0 owns the set; the other ranks learn the temporary paths by broadcast.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pearl/io/atomic_output.hpp"

namespace pearl::io {

/// What a run's outputs may replace, and how they are created.
struct OutputPolicy {
  bool overwrite = false;            ///< --overwrite: an existing regular, writable file may be replaced
  unsigned mode = 0640;              ///< --output-mode: permissions of the committed files
  std::vector<std::string> inputs;   ///< the run's input files: never an output
};

/// --output-mode's text as a permission mode: octal, at most 0777 (e.g. "0640").
/// Throws InputError naming the option and the domain otherwise.
unsigned parse_output_mode(const std::string& text);

/// Throws InputError naming `option`, `target` and the reason unless `target` may be
/// written under `policy`: it must not be (by path, symbolic link or hard link: same
/// device and inode) one of the inputs; if it exists it must be a regular file, not a
/// symbolic link, and `overwrite` must be set, and it must be writable by the user
/// (replacing a read-only file would silently change its mode).
void check_output_target(const std::filesystem::path& target, const std::string& option, const OutputPolicy& policy);

class OutputSet {
 public:
  explicit OutputSet(OutputPolicy policy) : policy_(std::move(policy)) {}

  /// Checks `target` (check_output_target) and reserves its temporary, created empty
  /// and private (0600); returns the temporary's path. Throws InputError if refused.
  std::filesystem::path add(const std::filesystem::path& target, const std::string& option);
  /// What the targets are checked against.
  [[nodiscard]] const OutputPolicy& policy() const noexcept { return policy_; }
  /// The targets added so far, in order.
  [[nodiscard]] std::vector<std::filesystem::path> targets() const;
  /// Gives every temporary its mode and syncs it, then renames each into place. Call
  /// once every artefact is complete. A failure before the first rename leaves every
  /// target untouched; a rename failing after others succeeded names the ones in place.
  void commit();

 private:
  OutputPolicy policy_;
  std::vector<AtomicOutput> outputs_;
};

}  // namespace pearl::io
