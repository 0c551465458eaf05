// The content checksum pearl recorded before "xxh3:" (file_checksum.cpp): "h64:" +
// pearl::hash_bytes of each 1 MiB block, chained in order with the file's size. Kept only
// to compare an input with a record written then (io::file_checksum_like), so that an
// existing pipeline does not rerun its tasks merely because the algorithm changed. One
// block at a time, plainly: this runs only for touched inputs of old records.
#include <string>

#include "file_blocks.hpp"
#include "pearl/core/record.hpp"
#include "pearl/io/provenance.hpp"

namespace pearl::io::detail {

std::string file_checksum_h64(const std::filesystem::path& file, std::uint64_t bytes) {
  std::uint64_t h = 0x243f6a8885a308d3ULL;
  for_each_block(file, bytes, 0, checksum_block_count(bytes),
                 [&](std::uint64_t, const unsigned char* p, std::size_t n) { h = mix64(h ^ hash_bytes(p, n)); });
  h = mix64(h ^ bytes);
  return checksum_text(kH64Prefix, h);
}

}  // namespace pearl::io::detail
