// pearl/io/provenance.hpp — what a committed output says about how it was made, and the
// content checksum of a file, so a pipeline can tell whether a result is up to date.
//
//   auto rec = io::read_provenance("out/incidence.h5");   // nullopt: absent or no record
//   if (rec && rec->job == "health.incidence") { ... json in rec->parameters, rec->inputs ... }
//   std::string sum = io::file_checksum("data/cases-0000.h5");   // "xxh3:0123abcd..."
//   bool same = io::file_checksum_like(file, recorded) == recorded;   // also for an older record
//
// The same checksum in parts, when several processes share the work (the runner: each
// rank hashes its share of all inputs' blocks, then one allgather):
//   auto part = io::checksum_blocks(file, bytes, first, count);   // hashes of blocks first..first+count
//   std::string sum = io::checksum_from_blocks(all_blocks_in_order, bytes);   // == file_checksum(file)
//
// The attributes themselves are written by write_tables (pearl/io/output_writer.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pearl::io {

/// The run attributes on the root group of a pearl output file, as stored.
struct Provenance {
  std::string job;
  std::string version;     ///< attribute `pearl_version`
  std::string parameters;  ///< JSON object string
  std::string inputs;      ///< JSON array string
  std::string started, finished;
};

/// The run attributes of `file`, or nullopt when the file does not exist, is not HDF5 or
/// lacks them (not a pearl output). Never throws for those; throws pearl::Error only
/// when an attribute exists but cannot be read.
std::optional<Provenance> read_provenance(const std::filesystem::path& file);

/// A checksum of the file's bytes: "xxh3:" and 16 hex digits, the XXH3 64-bit hash
/// (xxHash) of the XXH3 hashes of each kChecksumBlockBytes block (the last one shorter),
/// as 8-byte little-endian words in order, seeded with the file's size in bytes.
/// Reads the whole file once. Throws pearl::Error if unreadable.
std::string file_checksum(const std::filesystem::path& file);

/// The checksum of `file` computed by the algorithm whose prefix starts `recorded`, to
/// compare with it: "h64:" (pearl::hash_bytes of each block, chained: what pearl
/// recorded before "xxh3:"), otherwise file_checksum's. So a record written by an older
/// pearl still says whether an input's bytes changed. Throws pearl::Error if unreadable.
std::string file_checksum_like(const std::filesystem::path& file, std::string_view recorded);

/// The block size of file_checksum: 1 MiB.
inline constexpr std::uint64_t kChecksumBlockBytes = std::uint64_t{1} << 20;

/// Blocks of a file of `bytes` bytes (the last one may be short; none for an empty file).
constexpr std::uint64_t checksum_block_count(std::uint64_t bytes) noexcept {
  return (bytes + kChecksumBlockBytes - 1) / kChecksumBlockBytes;
}

/// The hashes of blocks [first, first + count) of the first `bytes` bytes of `file`, as
/// file_checksum computes them. Throws pearl::Error when the file cannot be read, ends
/// before those bytes (changed since `bytes` was taken), or the blocks lie outside it.
std::vector<std::uint64_t> checksum_blocks(const std::filesystem::path& file, std::uint64_t bytes, std::uint64_t first,
                                           std::uint64_t count);

/// file_checksum of a file of `bytes` bytes from all its block hashes, in order.
std::string checksum_from_blocks(std::span<const std::uint64_t> blocks, std::uint64_t bytes);

}  // namespace pearl::io
