// Reading a file's checksum blocks (file_blocks.hpp).
#include "file_blocks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "pearl/core/error.hpp"
#include "pearl/io/provenance.hpp"

namespace pearl::io::detail {

namespace {

/// An open file descriptor, closed on scope exit.
class Fd {
 public:
  explicit Fd(const std::filesystem::path& file) : fd_(::open(file.c_str(), O_RDONLY | O_CLOEXEC)) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

/// Reads exactly n bytes at `offset`; false when the file ends first.
bool read_at(int fd, unsigned char* into, std::size_t n, std::uint64_t offset, const std::filesystem::path& file) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, into, n, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error(file.string() + ": read error while computing its checksum: " + std::strerror(errno));
    }
    if (got == 0) return false;
    into += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

}  // namespace

std::string checksum_text(std::string_view prefix, std::uint64_t value) {
  std::array<char, 17> hex{};
  std::snprintf(hex.data(), hex.size(), "%016llx", static_cast<unsigned long long>(value));
  return std::string(prefix) + hex.data();
}

void for_each_block(const std::filesystem::path& file, std::uint64_t bytes, std::uint64_t first, std::uint64_t count,
                    const std::function<void(std::uint64_t, const unsigned char*, std::size_t)>& fn) {
  const std::uint64_t blocks = checksum_block_count(bytes);
  if (first > blocks || count > blocks - first) {
    throw Error(file.string() + ": checksum blocks " + std::to_string(first) + "+" + std::to_string(count) +
                " lie outside its " + std::to_string(blocks));
  }
  if (count == 0) return;
  const Fd fd(file);
  if (fd.get() < 0) throw Error(file.string() + ": cannot read to compute its checksum: " + std::strerror(errno));
  ::posix_fadvise(fd.get(), static_cast<off_t>(first * kChecksumBlockBytes),
                  static_cast<off_t>(count * kChecksumBlockBytes), POSIX_FADV_SEQUENTIAL);
  const auto buf = std::make_unique_for_overwrite<unsigned char[]>(kChecksumBlockBytes);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = (first + i) * kChecksumBlockBytes;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChecksumBlockBytes, bytes - at));
    if (!read_at(fd.get(), buf.get(), n, at, file)) {
      throw Error(file.string() + ": ended before its " + std::to_string(bytes) + " bytes (changed while read?)");
    }
    fn(i, buf.get(), n);
  }
}

}  // namespace pearl::io::detail
