// The content checksum cache (pearl/io/checksum_cache.hpp). An entry is the file
// `<device>-<inode>` in the cache directory holding one line:
//   pearl-checksum 1 <bytes> <mtime_ns> <ctime_ns> <checksum>
#include "pearl/io/checksum_cache.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <system_error>

namespace pearl::io {

namespace fs = std::filesystem;

namespace {

constexpr const char* kTag = "pearl-checksum";
constexpr int kFormat = 1;
constexpr auto kKeepEntries = std::chrono::hours(24 * 30);

std::int64_t ns_of(const struct timespec& t) noexcept {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

std::int64_t now_ns() noexcept {
  struct timespec t {};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return ns_of(t);
}

}  // namespace

std::optional<FileStamp> FileStamp::of(const fs::path& file) noexcept {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  FileStamp s;
  s.device = static_cast<std::uint64_t>(st.st_dev);
  s.inode = static_cast<std::uint64_t>(st.st_ino);
  s.bytes = static_cast<std::uint64_t>(st.st_size);
  s.mtime_ns = ns_of(st.st_mtim);
  s.ctime_ns = ns_of(st.st_ctim);
  s.taken_ns = now_ns();
  return s;
}

fs::path ChecksumCache::default_dir() {
  if (const char* set = std::getenv("PEARL_CHECKSUM_CACHE")) {
    const std::string dir = set;
    return dir.empty() || dir == "off" ? fs::path() : fs::path(dir);
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return fs::path(xdg) / "pearl" / "checksums";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    return fs::path(home) / ".cache" / "pearl" / "checksums";
  }
  return {};
}

fs::path ChecksumCache::entry(const FileStamp& stamp) const {
  return dir_ / (std::to_string(stamp.device) + "-" + std::to_string(stamp.inode));
}

std::string ChecksumCache::find(const FileStamp& stamp) const noexcept {
  if (!enabled()) return {};
  try {
    std::ifstream in(entry(stamp));
    std::string tag, checksum;
    int format = 0;
    FileStamp got = stamp;
    if (!(in >> tag >> format >> got.bytes >> got.mtime_ns >> got.ctime_ns >> checksum)) return {};
    if (tag != kTag || format != kFormat || !got.same(stamp)) return {};
    return checksum;
  } catch (...) {
    return {};
  }
}

bool ChecksumCache::remember(const fs::path& file, const FileStamp& before,
                             const std::string& checksum) const noexcept {
  if (!enabled() || std::max(before.mtime_ns, before.ctime_ns) > before.taken_ns - settle_ns_ || checksum.empty() ||
      checksum.find_first_of(" \n") != std::string::npos)
    return false;
  const auto after = FileStamp::of(file);
  if (!after || !after->same(before)) return false;  // changed while it was hashed
  try {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return false;
    const fs::path target = entry(before);
    const fs::path temp = target.string() + ".tmp" + std::to_string(::getpid());
    {
      std::ofstream out(temp, std::ios::trunc);
      out << kTag << ' ' << kFormat << ' ' << before.bytes << ' ' << before.mtime_ns << ' ' << before.ctime_ns << ' '
          << checksum << '\n';
      if (!out.flush()) {
        fs::remove(temp, ec);
        return false;
      }
    }
    fs::rename(temp, target, ec);
    if (ec) {
      fs::remove(temp, ec);
      return false;
    }
    // One addition in 64 looks for entries nobody wrote for a month (files long gone).
    if (std::random_device{}() % 64 == 0) remove_stale();
    return true;
  } catch (...) {
    return false;
  }
}

void ChecksumCache::remove_stale() const noexcept {
  try {
    std::error_code ec;
    const auto cutoff = fs::file_time_type::clock::now() - kKeepEntries;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code old;
      if (it->last_write_time(old) < cutoff && !old) fs::remove(it->path(), old);
    }
  } catch (...) {
    // a cache that cannot be tidied is still a cache
  }
}

}  // namespace pearl::io
