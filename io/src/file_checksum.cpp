// File content checksums (provenance.hpp): "h64:" + pearl::hash_bytes of each 1 MiB block,
// chained. The blocks are independent, which is what makes the work divisible: any
// process can hash any blocks, and chaining the block hashes in order afterwards gives
// the same checksum as reading the file front to back.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "pearl/core/error.hpp"
#include "pearl/core/record.hpp"
#include "pearl/io/provenance.hpp"

namespace pearl::io {

namespace {

/// Blocks hashed at once. pearl::hash_bytes is one dependent chain of multiplications
/// (about 1.7 GB/s); interleaving the chains of several blocks keeps the multiplier busy
/// with independent work: the same values, several times faster.
constexpr std::size_t kLanes = 8;

/// The seed hash_bytes starts a chain of `n` bytes with (pearl/core/record.hpp); the test
/// io.file_checksum compares every block hash with hash_bytes itself.
constexpr std::uint64_t seed_for(std::size_t n) { return 0x9e3779b97f4a7c15ULL ^ n; }

/// hash_bytes of kLanes whole blocks that follow each other in `p`.
void hash_whole_blocks(const unsigned char* p, std::uint64_t* out) {
  std::array<std::uint64_t, kLanes> h{};
  h.fill(seed_for(kChecksumBlockBytes));
  for (std::size_t at = 0; at < kChecksumBlockBytes; at += 8) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      std::uint64_t w = 0;
      std::memcpy(&w, p + l * kChecksumBlockBytes + at, 8);
      h[l] = mix64(h[l] ^ w);
    }
  }
  std::memcpy(out, h.data(), sizeof h);
}

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

std::vector<std::uint64_t> checksum_blocks(const std::filesystem::path& file, std::uint64_t bytes, std::uint64_t first,
                                           std::uint64_t count) {
  const std::uint64_t blocks = checksum_block_count(bytes);
  if (first > blocks || count > blocks - first) {
    throw Error(file.string() + ": checksum blocks " + std::to_string(first) + "+" + std::to_string(count) +
                " lie outside its " + std::to_string(blocks));
  }
  std::vector<std::uint64_t> out(count);
  if (count == 0) return out;
  const Fd fd(file);
  if (fd.get() < 0) throw Error(file.string() + ": cannot read to compute its checksum: " + std::strerror(errno));
  ::posix_fadvise(fd.get(), static_cast<off_t>(first * kChecksumBlockBytes),
                  static_cast<off_t>(count * kChecksumBlockBytes), POSIX_FADV_SEQUENTIAL);
  const auto changed = [&] {
    return Error(file.string() + ": ended before its " + std::to_string(bytes) + " bytes (changed while read?)");
  };
  const std::size_t window = kLanes * kChecksumBlockBytes;
  const auto buf = std::make_unique_for_overwrite<unsigned char[]>(window);
  std::uint64_t i = 0;
  // Whole blocks, kLanes at a time (the last block of the file may be short: below).
  const std::uint64_t whole = std::min(count, bytes / kChecksumBlockBytes - std::min(first, bytes / kChecksumBlockBytes));
  for (; i + kLanes <= whole; i += kLanes) {
    if (!read_at(fd.get(), buf.get(), window, (first + i) * kChecksumBlockBytes, file)) throw changed();
    hash_whole_blocks(buf.get(), out.data() + i);
  }
  for (; i < count; ++i) {
    const std::uint64_t at = (first + i) * kChecksumBlockBytes;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChecksumBlockBytes, bytes - at));
    if (!read_at(fd.get(), buf.get(), n, at, file)) throw changed();
    out[i] = hash_bytes(buf.get(), n);
  }
  return out;
}

std::string checksum_from_blocks(std::span<const std::uint64_t> blocks, std::uint64_t bytes) {
  std::uint64_t h = 0x243f6a8885a308d3ULL;
  for (const std::uint64_t b : blocks) h = mix64(h ^ b);
  h = mix64(h ^ bytes);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string("h64:") + hex;
}

std::string file_checksum(const std::filesystem::path& file) {
  std::error_code ec;
  const std::uint64_t bytes = std::filesystem::file_size(file, ec);
  if (ec) throw Error(file.string() + ": cannot read to compute its checksum: " + ec.message());
  return checksum_from_blocks(checksum_blocks(file, bytes, 0, checksum_block_count(bytes)), bytes);
}

}  // namespace pearl::io
