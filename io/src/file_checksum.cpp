// File content checksums (provenance.hpp): "xxh3:" + XXH3 (64-bit, libxxhash) of the
// array of the XXH3 hashes of each 1 MiB block, seeded with the file's size. The blocks
// are independent, which is what makes the work divisible: any process can hash any
// blocks, and combining the block hashes in order afterwards gives the same checksum as
// reading the file front to back. XXH3 runs at memory speed (about ten times pearl's own
// hash_bytes, which the older "h64:" checksum used: file_checksum_h64.cpp), so this
// second read of every input costs little next to the job.
#include <xxhash.h>

#include <string>
#include <vector>

#include "file_blocks.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/provenance.hpp"

namespace pearl::io {

namespace {

constexpr std::string_view kPrefix = "xxh3:";

std::uint64_t size_of(const std::filesystem::path& file) {
  std::error_code ec;
  const std::uint64_t bytes = std::filesystem::file_size(file, ec);
  if (ec) throw Error(file.string() + ": cannot read to compute its checksum: " + ec.message());
  return bytes;
}

}  // namespace

std::vector<std::uint64_t> checksum_blocks(const std::filesystem::path& file, std::uint64_t bytes, std::uint64_t first,
                                           std::uint64_t count) {
  std::vector<std::uint64_t> out(count);
  detail::for_each_block(file, bytes, first, count, [&](std::uint64_t i, const unsigned char* p, std::size_t n) {
    out[i] = XXH3_64bits(p, n);
  });
  return out;
}

std::string checksum_from_blocks(std::span<const std::uint64_t> blocks, std::uint64_t bytes) {
  // The block hashes as 8-byte little-endian words, whatever the host's byte order, so
  // that a value means the same everywhere.
  std::vector<unsigned char> words(blocks.size() * 8);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    for (std::size_t b = 0; b < 8; ++b) words[i * 8 + b] = static_cast<unsigned char>(blocks[i] >> (8 * b));
  }
  const XXH64_hash_t h = XXH3_64bits_withSeed(words.data(), words.size(), bytes);
  return detail::checksum_text(kPrefix, h);
}

std::string file_checksum(const std::filesystem::path& file) {
  const std::uint64_t bytes = size_of(file);
  return checksum_from_blocks(checksum_blocks(file, bytes, 0, checksum_block_count(bytes)), bytes);
}

std::string file_checksum_like(const std::filesystem::path& file, std::string_view recorded) {
  if (!recorded.starts_with(detail::kH64Prefix)) return file_checksum(file);
  return detail::file_checksum_h64(file, size_of(file));
}

}  // namespace pearl::io
