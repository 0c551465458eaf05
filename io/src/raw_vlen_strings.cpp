// Variable-length strings from the file's bytes (raw_vlen_strings.hpp).
#include "raw_vlen_strings.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "pearl/io/hdf5.hpp"
#include "raw_records.hpp"

namespace pearl::io::detail {

namespace {

/// Rows whose raw elements are read at once.
constexpr std::uint64_t kRows = 1 << 16;
/// Collections kept parsed (up to 64 KiB each as HDF5 1.10 writes them, thousands of
/// strings). A dataset's strings are written in row order, so rows read in order walk
/// the collections in order: a few slots are enough, and their buffers are reused (a
/// fresh buffer per collection spent a third of the time in page faults).
constexpr std::size_t kCollections = 8;

/// An unsigned little-endian number of `bytes` bytes (HDF5 encodes them so on every platform).
std::uint64_t decode(const unsigned char* p, std::size_t bytes) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = bytes; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

constexpr std::uint64_t align8(std::uint64_t n) noexcept { return (n + 7) / 8 * 8; }

}  // namespace

std::unique_ptr<RawVlenStrings> RawVlenStrings::open(const std::filesystem::path& file, hid_t file_id, hid_t dataset,
                                                     std::uint64_t rows, std::size_t member, std::size_t record) {
  std::unique_ptr<RawVlenStrings> raw(new RawVlenStrings());
  {
    const Handle fcpl(H5Fget_create_plist(file_id));
    hsize_t userblock = 0;
    if (!fcpl.valid() || H5Pget_sizes(fcpl.id(), &raw->addr_bytes_, &raw->len_bytes_) < 0 ||
        H5Pget_userblock(fcpl.id(), &userblock) < 0) {
      H5Eclear2(H5E_DEFAULT);
      return nullptr;
    }
    raw->base_ = userblock;  // heap addresses count from the end of the user block
  }
  if (raw->addr_bytes_ < 1 || raw->addr_bytes_ > 8 || raw->len_bytes_ < 1 || raw->len_bytes_ > 8) return nullptr;
  raw->member_ = member;
  raw->record_ = record == 0 ? raw->element_bytes() : record;
  raw->rows_ = rows;
  if (raw->member_ + raw->element_bytes() > raw->record_) return nullptr;
  const auto data = open_contiguous(file, dataset, rows * raw->record_);
  if (!data) return nullptr;
  raw->fd_ = data->fd;
  raw->data_ = data->offset;
  raw->file_bytes_ = data->file_bytes;
  return raw;
}

std::unique_ptr<RawVlenStrings> RawVlenStrings::open_member(const std::filesystem::path& file, hid_t file_id,
                                                            hid_t dataset, std::uint64_t rows, const std::string& name) {
  const auto layout = compound_disk_layout(file_id, dataset);
  if (!layout) return nullptr;
  for (const auto& m : layout->members) {
    if (m.name == name) return m.vlen_string ? open(file, file_id, dataset, rows, m.offset, layout->record) : nullptr;
  }
  return nullptr;
}

RawVlenStrings::~RawVlenStrings() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawVlenStrings::read_at(void* into, std::size_t n, std::uint64_t offset) const {
  return pread_all(fd_, into, n, offset);
}

const RawVlenStrings::Collection* RawVlenStrings::collection(std::uint64_t addr) {
  for (const auto& c : collections_) {
    if (c.addr == addr) return &c;  // never 0: read() takes address 0 for a null string
  }
  // Header: "GCOL", version 1, 3 reserved bytes, the collection's size (sizeof_size bytes).
  const std::size_t header = 8 + len_bytes_;
  const std::uint64_t at = base_ + addr;
  if (at < base_ || at > file_bytes_ || file_bytes_ - at < header) return nullptr;
  unsigned char head[16];
  if (!read_at(head, header, at) || std::memcmp(head, "GCOL", 4) != 0 || head[4] != 1) return nullptr;
  const std::uint64_t size = decode(head + 8, len_bytes_);
  if (size < align8(header) || size > file_bytes_ - at) return nullptr;
  if (collections_.empty()) collections_.resize(kCollections);  // slots never move: read() keeps a pointer
  Collection& c = collections_[next_slot_];
  next_slot_ = (next_slot_ + 1) % kCollections;
  c.addr = 0;  // until it parses
  c.bytes.resize(size);
  c.objects.clear();
  if (!read_at(c.bytes.data(), size, at)) return nullptr;
  // Objects, as H5HG__cache_heap_deserialize walks them: index (2), reference count (2),
  // reserved (4), size (sizeof_size), then the data padded to 8 bytes; index 0 is the
  // free space, whose size counts its header. A later object with the same index wins.
  const auto* bytes = reinterpret_cast<const unsigned char*>(c.bytes.data());
  const std::uint64_t object_header = 8 + len_bytes_;
  for (std::uint64_t p = align8(header); p + object_header <= size;) {
    const auto index = static_cast<std::size_t>(decode(bytes + p, 2));
    const std::uint64_t n = decode(bytes + p + 8, len_bytes_);
    if (index == 0) {
      if (n == 0) break;
      p += n;
      continue;
    }
    const std::uint64_t data = p + object_header;
    if (n > size - data) return nullptr;
    if (index >= c.objects.size()) c.objects.resize(index + 1, Object{0, 0});
    c.objects[index] = {data, n};
    p = data + align8(n);
  }
  c.addr = addr;
  return &c;
}

bool RawVlenStrings::read(std::uint64_t begin, std::uint64_t n, std::vector<std::string>& out) {
  damage_.reset();
  if (begin > rows_ || n > rows_ - begin) return false;
  const std::size_t had = out.size();
  const auto fail = [&] {
    out.resize(had);
    return false;
  };
  const Collection* last = nullptr;
  std::uint64_t last_addr = 0;
  for (std::uint64_t off = 0; off < n; off += kRows) {
    const std::uint64_t m = std::min(kRows, n - off);
    elements_.resize(m * record_);
    if (!read_at(elements_.data(), elements_.size(), data_ + (begin + off) * record_)) return fail();
    for (std::uint64_t i = 0; i < m; ++i) {
      // An element: its length (4 bytes), the collection's address, the object's index (4).
      const unsigned char* e = elements_.data() + i * record_ + member_;
      const std::uint64_t length = decode(e, 4);
      const std::uint64_t addr = decode(e + 4, addr_bytes_);
      const std::uint64_t index = decode(e + 4 + addr_bytes_, 4);
      if (addr == 0 || length == 0) {  // HDF5's null string, or an empty one: both read as ""
        out.emplace_back();
        continue;
      }
      if (length > file_bytes_) {
        damage_ = Damage{begin + off + i, length};
        return fail();
      }
      if (last == nullptr || addr != last_addr) {
        last = collection(addr);
        last_addr = addr;
        if (last == nullptr) return fail();
      }
      if (index >= last->objects.size() || last->objects[index].size != length) return fail();
      const char* s = last->bytes.data() + last->objects[index].at;
      out.emplace_back(s, ::strnlen(s, length));
    }
  }
  return true;
}

}  // namespace pearl::io::detail
