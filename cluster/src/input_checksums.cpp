// The content checksums of a run's inputs (input_checksums.hpp).
#include "input_checksums.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "pearl/core/agreement.hpp"
#include "pearl/core/collectives.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/provenance.hpp"

namespace pearl::cluster {

/// Collective. The inputs with their content checksums (the output's provenance). The
/// work is shared by bytes, not by files: all inputs' 1 MiB checksum blocks, in order, are
/// cut into `ranks` equal runs, each rank hashes its run (io::checksum_blocks), and one
/// allgather brings every rank's hashes to all, which chain them per file into exactly
/// io::file_checksum's value. (One file per rank in turn left a rank with the largest
/// shards hashing most of the bytes; rank 0 alone re-read every input before that.) A file
/// that has vanished or changed size since the job read it is recorded without one, as
/// the writer does for a vanished input.
std::vector<io::InputFileInfo> with_checksums(Communicator& comm, std::vector<io::InputFileInfo> files,
                                              const io::ChecksumCache& cache, std::size_t& from_cache) {
  // The cache, on rank 0: its answers (one line per file, "" for none) go to every rank,
  // so all agree on what is left to hash. A stamp is kept for each file left to hash:
  // taken here, before any rank hashes, it is what the new entry is checked against once
  // all have.
  std::vector<std::optional<io::FileStamp>> stamps(files.size());
  std::string known;
  if (comm.rank() == 0 && cache.enabled()) {
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (files[i].checksum.empty()) stamps[i] = io::FileStamp::of(files[i].path);
      // The file the job read: its size and modification second as recorded then.
      const bool usable =
          stamps[i] && stamps[i]->bytes == files[i].bytes && stamps[i]->mtime_ns / 1'000'000'000 == files[i].mtime;
      const std::string found = usable ? cache.find(*stamps[i]) : std::string();
      if (!found.empty()) stamps[i].reset();  // known: nothing to remember
      known += found + "\n";
    }
  }
  known = broadcast_string(comm, known, 0);
  from_cache = 0;
  for (std::size_t i = 0, at = 0; i < files.size(); ++i) {
    const std::size_t end = known.find('\n', at);
    if (end == std::string::npos) break;  // no cache: nothing known
    if (end > at && files[i].checksum.empty()) {
      files[i].checksum = known.substr(at, end - at);
      ++from_cache;
    }
    at = end + 1;
  }

  const auto ranks = static_cast<std::uint64_t>(comm.size());
  const auto rank = static_cast<std::uint64_t>(comm.rank());
  std::vector<std::uint64_t> first(files.size() + 1, 0);  // first block of file i in the sequence
  for (std::size_t i = 0; i < files.size(); ++i) {
    first[i + 1] = first[i] + (files[i].checksum.empty() ? io::checksum_block_count(files[i].bytes) : 0);
  }
  // Rank r's run of blocks: [share(r), share(r + 1)).
  const auto share = [&](std::uint64_t r) { return first.back() * r / ranks; };
  // This rank's message: one word per file (1: readable as recorded), then its run's hashes.
  std::vector<std::uint64_t> mine(files.size(), 0);
  agreed(comm, [&] {
    const std::uint64_t lo = share(rank), hi = share(rank + 1);
    mine.reserve(files.size() + (hi - lo));
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (!files[i].checksum.empty()) continue;
      std::error_code gone;
      const auto size = std::filesystem::file_size(files[i].path, gone);
      mine[i] = !gone && size == files[i].bytes ? 1 : 0;
      const std::uint64_t from = std::max(lo, first[i]), to = std::min(hi, first[i + 1]);
      if (from >= to) continue;
      std::vector<std::uint64_t> part(to - from, 0);
      if (mine[i] == 1) {
        try {
          part = io::checksum_blocks(files[i].path, files[i].bytes, from - first[i], to - from);
        } catch (const Error&) {
          mine[i] = 0;  // changed while read: no checksum, as for a vanished input
        }
      }
      mine.insert(mine.end(), part.begin(), part.end());
    }
  });
  std::vector<std::vector<std::byte>> all;
  comm.allgather(std::as_bytes(std::span<const std::uint64_t>(mine)), all);
  std::vector<std::uint64_t> blocks(first.back(), 0);
  std::vector<bool> readable(files.size(), true);
  for (std::uint64_t r = 0; r < ranks; ++r) {
    const auto& bytes = all[r];
    if (bytes.size() != (files.size() + share(r + 1) - share(r)) * sizeof(std::uint64_t)) {
      throw Error("input checksums: rank " + std::to_string(r) + " sent " + std::to_string(bytes.size()) +
                  " bytes, not its share");
    }
    std::vector<std::uint64_t> words(bytes.size() / sizeof(std::uint64_t));
    std::memcpy(words.data(), bytes.data(), bytes.size());
    for (std::size_t i = 0; i < files.size(); ++i)
      readable[i] = readable[i] && (words[i] == 1 || !files[i].checksum.empty());
    std::copy(words.begin() + static_cast<std::ptrdiff_t>(files.size()), words.end(),
              blocks.begin() + static_cast<std::ptrdiff_t>(share(r)));
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!files[i].checksum.empty()) continue;
    files[i].checksum = readable[i] ? io::checksum_from_blocks(
                                          std::span(blocks).subspan(first[i], first[i + 1] - first[i]), files[i].bytes)
                                    : std::string();
  }
  if (comm.rank() == 0) {
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (stamps[i]) cache.remember(files[i].path, *stamps[i], files[i].checksum);
    }
  }
  return files;
}

}  // namespace pearl::cluster
