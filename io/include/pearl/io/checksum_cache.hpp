// pearl/io/checksum_cache.hpp — the content checksums (provenance.hpp) of files already
// hashed, so that a run over inputs an earlier run hashed does not read them all again.
//
//   io::ChecksumCache cache(io::ChecksumCache::default_dir());
//   const auto stamp = io::FileStamp::of(file);            // before hashing
//   std::string sum = stamp ? cache.find(*stamp) : "";      // "" : hash the file
//   ...
//   if (sum.empty()) { sum = io::file_checksum(file); cache.remember(file, *stamp, sum); }
//
// An entry is trusted only for the same file (device and inode) with the same size,
// modification time and status-change time, to the nanosecond. Any write, truncate,
// rename onto it, `touch` or chmod changes the status-change time (ctime), which no user
// can set back, so a changed file is always hashed again. What git and DVC do.
//
// The cache is a directory of small files, one per input file, each written whole to a
// temporary and renamed into place: concurrent runs, on one node or many sharing a home
// directory, at worst hash the same file twice. Nothing about the cache can fail a run:
// an unreadable or unwritable cache is no cache. Entries not written for 30 days are
// removed when an entry is added.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace pearl::io {

/// A file's identity and times, as stat(2) gives them.
struct FileStamp {
  std::uint64_t device = 0, inode = 0, bytes = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  std::int64_t taken_ns = 0;  ///< when the stamp was taken (the clock of file times)

  /// The file's stamp now; nullopt when it cannot be stat'ed or is not a regular file.
  static std::optional<FileStamp> of(const std::filesystem::path& file) noexcept;
  /// The same file with the same size and times.
  [[nodiscard]] bool same(const FileStamp& o) const noexcept {
    return device == o.device && inode == o.inode && bytes == o.bytes && mtime_ns == o.mtime_ns &&
           ctime_ns == o.ctime_ns;
  }
};

class ChecksumCache {
 public:
  /// How recent a change may be for its checksum to be remembered: file systems keep
  /// times to a second (or coarser) on some mounts, so a write within the same second
  /// as the stamp would otherwise go unseen.
  static constexpr std::int64_t kSettledNs = 2'000'000'000;

  /// The cache in `dir` (created when first written); an empty path is no cache.
  /// `settle_ns`: kSettledNs but in tests.
  explicit ChecksumCache(std::filesystem::path dir, std::int64_t settle_ns = kSettledNs)
      : dir_(std::move(dir)), settle_ns_(settle_ns) {}

  /// $PEARL_CHECKSUM_CACHE if set ("off" or empty: no cache), else
  /// $XDG_CACHE_HOME/pearl/checksums, else $HOME/.cache/pearl/checksums, else none.
  static std::filesystem::path default_dir();

  [[nodiscard]] bool enabled() const noexcept { return !dir_.empty(); }
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }

  /// The checksum remembered for the file `stamp` describes, or "" when there is none
  /// for that file with exactly these size and times.
  [[nodiscard]] std::string find(const FileStamp& stamp) const noexcept;

  /// Remembers `checksum` for `file`, hashed from `before` (its stamp when hashing began),
  /// if the file is unchanged since and its last change was settle_ns older than
  /// `before` (then any later change shows in its times, even where a file system keeps
  /// them to the second). Returns whether it was remembered; never throws.
  bool remember(const std::filesystem::path& file, const FileStamp& before, const std::string& checksum) const noexcept;

 private:
  [[nodiscard]] std::filesystem::path entry(const FileStamp& stamp) const;
  void remove_stale() const noexcept;

  std::filesystem::path dir_;
  std::int64_t settle_ns_;
};

}  // namespace pearl::io
