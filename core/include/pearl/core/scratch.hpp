// pearl/core/scratch.hpp — a private scratch directory and sorted runs of records on disk.
//
// When a rank's data exceeds its memory budget, sorted runs are written here and merged
// later. The directory belongs to one engine on one rank and is removed with everything
// in it when the owner is destroyed, on success and on failure (exceptions unwind it).
//
//   pearl::ScratchDir dir("/tmp", "rank3");
//   pearl::RunWriter w(dir.new_file("reduce"), 16);   // 16-byte records
//   w.append(bytes);  w.close();
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pearl/core/leftovers.hpp"

namespace pearl {

class ScratchDir {
 public:
  /// Creates a fresh, private (0700) directory under `parent` (default: $TMPDIR or /tmp),
  /// named `pearl-<tag>@<host>+<pid>-XXXXXX` so that a later run can remove it if this
  /// process dies without doing so (remove_leftovers).
  explicit ScratchDir(const std::filesystem::path& parent, const std::string& tag);
  /// Throws InputError unless `parent` (empty: the default) is a directory this process
  /// can create directories in: a run checks its scratch before any work.
  static void check_parent(const std::filesystem::path& parent);
  /// Removes the scratch directories under `parent` (empty: the default) of runs on this
  /// host whose process is gone (killed before they could clean up); returns them.
  static std::vector<Leftover> remove_leftovers(const std::filesystem::path& parent);
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();  // removes the directory and its contents; never throws

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// A new, unique file name inside the directory (the file is not created).
  std::filesystem::path new_file(const std::string& stem);
  /// How many file names `new_file` has handed out (spilled runs, for progress and metrics).
  [[nodiscard]] std::size_t files_created() const noexcept { return counter_; }

  /// $TMPDIR if set, else /tmp.
  static std::filesystem::path default_parent();

 private:
  std::filesystem::path path_;
  std::size_t counter_ = 0;
};

/// What a run writer and a run reader share: the open file and a buffer that holds whole
/// records (at least one). Closes the file when destroyed if the owner has not.
struct RunFile {
  /// Opens `file` with fopen `mode` ("wb", "rb"); a failure is an Error that says it
  /// could not `verb` ("create", "open") the spill file, and why.
  RunFile(std::filesystem::path file, std::size_t record_size, std::size_t buffer_bytes, const char* mode,
          const char* verb);
  RunFile(const RunFile&) = delete;
  RunFile& operator=(const RunFile&) = delete;
  ~RunFile();

  std::filesystem::path file;
  std::size_t record_size;
  std::FILE* fp = nullptr;
  std::vector<std::byte> buffer;
};

/// Appends fixed-size records to a file with a bounded write buffer.
class RunWriter {
 public:
  RunWriter(std::filesystem::path file, std::size_t record_size, std::size_t buffer_bytes = 1 << 20);

  /// Appends whole records (`bytes.size()` is a multiple of the record size).
  void append(std::span<const std::byte> bytes);
  void close();
  [[nodiscard]] std::size_t records() const noexcept { return records_; }
  [[nodiscard]] const std::filesystem::path& file() const noexcept { return run_.file; }

 private:
  void flush();
  RunFile run_;
  std::size_t used_ = 0;
  std::size_t records_ = 0;
};

/// Reads a run back one record at a time, with a bounded read buffer.
class RunReader {
 public:
  RunReader(const std::filesystem::path& file, std::size_t record_size, std::size_t buffer_bytes = 1 << 20);

  /// The current record, or nullptr at the end of the run.
  [[nodiscard]] const std::byte* current() const noexcept { return pos_ < end_ ? run_.buffer.data() + pos_ : nullptr; }
  void advance();

 private:
  void refill();
  RunFile run_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
};

}  // namespace pearl
