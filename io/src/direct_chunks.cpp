// Whole gzip chunks read raw and inflated by libdeflate (direct_chunks.hpp).
#include "direct_chunks.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace pearl::io::detail {

namespace {

/// HDF5's shuffle filter stores byte b of every element together: byte b of element i is
/// at b * elements + i. Writes the first `rows` elements back in order.
template <std::size_t kSize>
void unshuffle_words(const unsigned char* in, std::uint64_t elements, std::uint64_t rows, unsigned char* out) {
  // Each element assembled in a register from kSize sequential streams, then stored whole:
  // a byte-by-byte scatter with a stride was a third of the read.
  static_assert(std::endian::native == std::endian::little);
  for (std::uint64_t i = 0; i < rows; ++i) {
    std::uint64_t w = 0;
    for (std::size_t b = 0; b < kSize; ++b) w |= std::uint64_t{in[b * elements + i]} << (8 * b);
    std::memcpy(out + i * kSize, &w, kSize);
  }
}

void unshuffle(const unsigned char* in, std::uint64_t elements, std::size_t size, std::uint64_t rows,
               unsigned char* out) {
  switch (size) {
    case 1: std::memcpy(out, in, rows); return;
    case 2: unshuffle_words<2>(in, elements, rows, out); return;
    case 4: unshuffle_words<4>(in, elements, rows, out); return;
    case 8: unshuffle_words<8>(in, elements, rows, out); return;
    default:
      for (std::size_t b = 0; b < size; ++b) {
        for (std::uint64_t i = 0; i < rows; ++i) out[i * size + b] = in[b * elements + i];
      }
  }
}

}  // namespace

std::unique_ptr<DirectChunks> DirectChunks::open(hid_t dataset, const StorageInfo& storage, std::size_t element,
                                                 std::uint64_t rows) {
  const auto& f = storage.filters;
  const bool deflate_only = f.size() == 1 && f[0].id == H5Z_FILTER_DEFLATE;
  const bool shuffled = f.size() == 2 && f[0].id == H5Z_FILTER_SHUFFLE && f[1].id == H5Z_FILTER_DEFLATE;
  // Chunks of up to 64 MiB (HDF5 allows 4 GiB; larger ones go through HDF5's own path).
  constexpr std::uint64_t kMaxChunkBytes = std::uint64_t{64} << 20;
  if (storage.chunk_rows == 0 || element == 0 || !(deflate_only || shuffled) ||
      storage.chunk_rows > kMaxChunkBytes / element) {
    return nullptr;
  }
  std::unique_ptr<DirectChunks> c(new DirectChunks());
  c->inflater_ = libdeflate_alloc_decompressor();
  if (c->inflater_ == nullptr) return nullptr;
  c->dataset_ = dataset;
  c->element_ = element;
  c->chunk_rows_ = storage.chunk_rows;
  c->rows_ = rows;
  c->shuffled_ = shuffled;
  return c;
}

DirectChunks::~DirectChunks() {
  if (inflater_ != nullptr) libdeflate_free_decompressor(inflater_);
}

bool DirectChunks::covers(std::uint64_t begin, std::uint64_t n) const noexcept {
  return begin % chunk_rows_ == 0 && begin <= rows_ && n <= rows_ - begin;
}

bool DirectChunks::inflate(const unsigned char* in, std::size_t in_bytes, void* out, std::size_t bytes) {
  std::size_t written = 0;
  return libdeflate_zlib_decompress(inflater_, in, in_bytes, out, bytes, &written) == LIBDEFLATE_SUCCESS &&
         written == bytes;
}

bool DirectChunks::read(std::uint64_t begin, std::uint64_t n, std::byte* out) {
  if (!covers(begin, n)) return false;
  const std::size_t chunk_bytes = chunk_rows_ * element_;  // every chunk is stored whole, the last one too
  bool ok = true;
  H5E_BEGIN_TRY {
    for (std::uint64_t first = begin; ok && first < begin + n; first += chunk_rows_) {
      const hsize_t offset = first;
      hsize_t stored = 0;
      std::uint32_t skipped = 0;
      // Not written (fill values), unreadable, or larger than deflate makes any chunk (a
      // damaged index, or stored raw): HDF5 knows what to do.
      if (H5Dget_chunk_storage_size(dataset_, &offset, &stored) < 0 || stored == 0 ||
          stored > chunk_bytes + chunk_bytes / 100 + 1024) {
        ok = false;
        break;
      }
      compressed_.resize(stored);
      if (H5Dread_chunk(dataset_, H5P_DEFAULT, &offset, &skipped, compressed_.data()) < 0 || skipped != 0) {
        ok = false;  // a filter was skipped for this chunk (e.g. it did not compress)
        break;
      }
      const std::uint64_t rows = std::min(chunk_rows_, begin + n - first);
      std::byte* to = out + (first - begin) * element_;
      if (!shuffled_ && rows == chunk_rows_) {
        ok = inflate(compressed_.data(), compressed_.size(), to, chunk_bytes);
        continue;
      }
      plain_.resize(chunk_bytes);
      ok = inflate(compressed_.data(), compressed_.size(), plain_.data(), chunk_bytes);
      if (!ok) break;
      if (!shuffled_) {
        std::memcpy(to, plain_.data(), rows * element_);
        continue;
      }
      unshuffle(plain_.data(), chunk_rows_, element_, rows, reinterpret_cast<unsigned char*>(to));
    }
  }
  H5E_END_TRY;
  if (!ok) H5Eclear2(H5E_DEFAULT);
  return ok;
}

}  // namespace pearl::io::detail
