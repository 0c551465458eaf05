// io::file_checksum and its parts (checksum_blocks, checksum_from_blocks): the blocks may
// be hashed by several processes, so these check that every way of computing the checksum
// gives the value of its definition, XXH3 of each 1 MiB block and XXH3 of those hashes in
// order, computed here by a plain loop over the file; and that io::file_checksum_like
// still computes the older "h64:" checksum for a record that names it.
// (tests/metrics/test_input_checksums.py checks the values with Python's xxhash.)
#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <bit>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "pearl/core/error.hpp"
#include "pearl/core/record.hpp"
#include "pearl/io/provenance.hpp"

namespace pearl::io {
namespace {

namespace fs = std::filesystem;

std::string hex16(const char* prefix, std::uint64_t h) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return prefix + std::string(hex);
}

/// The definition: 1 MiB blocks read front to back, each hashed, then XXH3 of the block
/// hashes (little-endian words; this test runs on little-endian hosts) seeded with the size.
std::string reference_checksum(const fs::path& file) {
  static_assert(std::endian::native == std::endian::little);
  std::ifstream in(file, std::ios::binary);
  std::vector<char> block(kChecksumBlockBytes);
  std::vector<std::uint64_t> hashes;
  std::uint64_t total = 0;
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    hashes.push_back(XXH3_64bits(block.data(), n));
    total += n;
  }
  return hex16("xxh3:", XXH3_64bits_withSeed(hashes.data(), hashes.size() * 8, total));
}

/// The older definition ("h64:"): each block's hash_bytes chained, then the size.
std::string reference_h64(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<char> block(kChecksumBlockBytes);
  std::uint64_t h = 0x243f6a8885a308d3ULL;
  std::uint64_t total = 0;
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    h = mix64(h ^ hash_bytes(block.data(), n));
    total += n;
  }
  return hex16("h64:", mix64(h ^ total));
}

class FileChecksum : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pearl-checksum-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, std::uint64_t bytes, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::vector<char> data(bytes);
    for (auto& c : data) c = static_cast<char>(rng());
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    return p;
  }

  fs::path dir_;
};

TEST_F(FileChecksum, EqualsItsDefinitionAtEverySize) {
  const std::uint64_t mib = kChecksumBlockBytes;
  // empty, one short block, exact blocks, fewer and more whole blocks than are hashed at
  // once, and a short last block after them
  for (const std::uint64_t bytes : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{13}, mib - 1, mib, mib + 1,
                                    3 * mib, 8 * mib, 8 * mib + 5, 17 * mib + 12345}) {
    const fs::path f = write("f-" + std::to_string(bytes), bytes, static_cast<unsigned>(bytes));
    EXPECT_EQ(file_checksum(f), reference_checksum(f)) << bytes << " bytes";
  }
}

TEST_F(FileChecksum, AnySplitOfTheBlocksGivesTheSameChecksum) {
  const std::uint64_t bytes = 19 * kChecksumBlockBytes + 777;
  const fs::path f = write("split", bytes, 3);
  const std::uint64_t blocks = checksum_block_count(bytes);
  ASSERT_EQ(blocks, 20u);
  const std::string whole = file_checksum(f);
  EXPECT_EQ(whole, reference_checksum(f));
  for (const std::uint64_t parts : {1u, 2u, 3u, 7u, 20u, 23u}) {  // more parts than blocks: some empty
    std::vector<std::uint64_t> all;
    for (std::uint64_t p = 0; p < parts; ++p) {
      const std::uint64_t lo = blocks * p / parts, hi = blocks * (p + 1) / parts;
      const auto part = checksum_blocks(f, bytes, lo, hi - lo);
      ASSERT_EQ(part.size(), hi - lo);
      all.insert(all.end(), part.begin(), part.end());
    }
    EXPECT_EQ(checksum_from_blocks(all, bytes), whole) << parts << " parts";
  }
}

TEST_F(FileChecksum, AChangedByteOrSizeChangesIt) {
  const std::uint64_t bytes = 9 * kChecksumBlockBytes + 3;
  const fs::path f = write("a", bytes, 5);
  const std::string before = file_checksum(f);
  for (const std::uint64_t at : {std::uint64_t{0}, 4 * kChecksumBlockBytes + 17, bytes - 1}) {
    std::fstream io(f, std::ios::binary | std::ios::in | std::ios::out);
    io.seekg(static_cast<std::streamoff>(at));
    const char c = static_cast<char>(io.get());
    io.seekp(static_cast<std::streamoff>(at));
    io.put(static_cast<char>(c ^ 1));
    io.close();
    EXPECT_NE(file_checksum(f), before) << "byte " << at << " changed";
    std::fstream back(f, std::ios::binary | std::ios::in | std::ios::out);
    back.seekp(static_cast<std::streamoff>(at));
    back.put(c);
  }
  EXPECT_EQ(file_checksum(f), before);
  fs::resize_file(f, bytes - 1);
  EXPECT_NE(file_checksum(f), before);
}

TEST_F(FileChecksum, ARecordComparesByTheAlgorithmItsPrefixNames) {
  for (const std::uint64_t bytes : {std::uint64_t{0}, std::uint64_t{13}, kChecksumBlockBytes, 3 * kChecksumBlockBytes + 7}) {
    const fs::path f = write("r-" + std::to_string(bytes), bytes, static_cast<unsigned>(bytes) + 1);
    const std::string now = file_checksum(f), old = reference_h64(f);
    ASSERT_TRUE(now.starts_with("xxh3:")) << now;
    EXPECT_EQ(file_checksum_like(f, now), now) << bytes << " bytes";
    EXPECT_EQ(file_checksum_like(f, old), old) << bytes << " bytes";
    EXPECT_EQ(file_checksum_like(f, "h64:0000000000000000"), old);  // the algorithm, not the value
    EXPECT_EQ(file_checksum_like(f, "md5:whatever"), now);  // unknown: today's, so it differs
  }
  const fs::path f = write("r-changed", 2 * kChecksumBlockBytes, 4);
  const std::string old = reference_h64(f);
  fs::resize_file(f, 2 * kChecksumBlockBytes - 1);
  EXPECT_NE(file_checksum_like(f, old), old);
  EXPECT_THROW((void)file_checksum_like(dir_ / "missing.h5", old), Error);
}

TEST_F(FileChecksum, AFileShorterThanItsRecordedSizeOrMissingIsAnError) {
  const fs::path f = write("short", 2 * kChecksumBlockBytes, 9);
  EXPECT_THROW((void)checksum_blocks(f, 3 * kChecksumBlockBytes, 2, 1), Error);  // ends before block 2
  EXPECT_THROW((void)checksum_blocks(f, 2 * kChecksumBlockBytes, 1, 2), Error);  // outside its 2 blocks
  EXPECT_THROW((void)file_checksum(dir_ / "missing.h5"), Error);
  EXPECT_TRUE(checksum_blocks(dir_ / "missing.h5", 0, 0, 0).empty());  // nothing asked, nothing read
}

}  // namespace
}  // namespace pearl::io
