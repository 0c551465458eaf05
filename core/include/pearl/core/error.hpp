// pearl/core/error.hpp — the exceptions pearl throws and the exit code each maps to.
//
// Errors carry their context in the message (file, table, column, row, option, rank).
// Two kinds matter to the runner:
//   - InputError: the user's input or command line is wrong (exit code 2);
//   - Error:      anything else (exit code 1).
//
//   throw pearl::InputError("cases.h5: table /cases: column 'age_years' is float64, expected uint8");
#pragma once

#include <stdexcept>
#include <string>

namespace pearl {

/// Exit codes of the `pearl` command, documented in docs/user-guide.md.
/// `resumable` (75, EX_TEMPFAIL): stopped by a signal after writing a checkpoint; run
/// again with --resume (a Slurm batch script requeues on it).
enum class ExitCode : int { ok = 0, failure = 1, usage_or_input = 2, resumable = 75 };

/// Base of every pearl exception. `exit_code()` says how the runner should end.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, ExitCode code = ExitCode::failure)
      : std::runtime_error(what), code_(code) {}
  [[nodiscard]] ExitCode exit_code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

/// Bad input data, bad option or bad command line: the user can fix it (exit 2).
class InputError : public Error {
 public:
  explicit InputError(const std::string& what) : Error(what, ExitCode::usage_or_input) {}
};

/// Thrown on every rank when *another* rank failed: the message is that rank's error,
/// so every rank can stop cleanly and rank 0 reports the one real cause.
class RemoteError : public Error {
 public:
  RemoteError(const std::string& what, ExitCode code, int failed_rank)
      : Error(what, code), failed_rank_(failed_rank) {}
  [[nodiscard]] int failed_rank() const noexcept { return failed_rank_; }

 private:
  int failed_rank_;
};

}  // namespace pearl
