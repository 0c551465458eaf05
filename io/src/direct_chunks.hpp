// io/src/direct_chunks.hpp — whole gzip chunks of a 1-D dataset read raw (H5Dread_chunk)
// and inflated with libdeflate (not installed). Through HDF5's filter pipeline, zlib's
// inflate and its adler32 took about 70% of the time to read a gzip-compressed shard
// (bench/io scan on data.generate's chunked shards), plus a copy out of the chunk cache;
// libdeflate inflates the same stream, checksum included, several times faster, here
// straight into the caller's buffer when the rows are whole chunks.
//
//   auto chunks = DirectChunks::open(dataset, storage, sizeof(std::int64_t), rows);
//   if (chunks && chunks->covers(begin, n) && chunks->read(begin, n, out)) { ... }
//   else { /* H5Dread as before */ }
//
// Only datasets whose filters are exactly deflate, or shuffle then deflate (what h5py,
// pandas and pearl write), and only row ranges that start on a chunk (TableSource's
// batches do). A chunk whose filters were skipped when it was written, that is missing or
// that does not inflate to a whole chunk makes read() return false; the caller then
// reads through HDF5, which reports a damaged chunk as it always has. The bytes are the
// file's: the caller checks that its type is the file's type.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "pearl/io/table_info.hpp"

struct libdeflate_decompressor;

namespace pearl::io::detail {

class DirectChunks {
 public:
  /// For `dataset` (1-D, `rows` rows of `element` bytes, stored as `storage` says);
  /// nullptr when its chunks are not deflate or shuffle + deflate.
  static std::unique_ptr<DirectChunks> open(hid_t dataset, const StorageInfo& storage, std::size_t element,
                                            std::uint64_t rows);
  DirectChunks(const DirectChunks&) = delete;
  DirectChunks& operator=(const DirectChunks&) = delete;
  ~DirectChunks();

  /// Whether rows [begin, begin + n) can be read so: they start on a chunk.
  [[nodiscard]] bool covers(std::uint64_t begin, std::uint64_t n) const noexcept;
  /// The rows' bytes into `out` (n * element bytes); false when a chunk cannot be read so
  /// (then `out` holds nothing useful: read the rows through HDF5).
  bool read(std::uint64_t begin, std::uint64_t n, std::byte* out);

 private:
  DirectChunks() = default;
  /// Inflates `in` into exactly `bytes` bytes at `out`.
  bool inflate(const unsigned char* in, std::size_t in_bytes, void* out, std::size_t bytes);

  hid_t dataset_ = H5I_INVALID_HID;  // not owned: the reader's handle outlives this
  std::size_t element_ = 0;
  std::uint64_t chunk_rows_ = 0;
  std::uint64_t rows_ = 0;
  bool shuffled_ = false;
  libdeflate_decompressor* inflater_ = nullptr;
  std::vector<unsigned char> compressed_;  // one chunk as stored, reused
  std::vector<unsigned char> plain_;       // one chunk inflated (shuffled, or a partial last chunk)
};

}  // namespace pearl::io::detail
