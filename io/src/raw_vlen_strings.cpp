// Variable-length strings from the file's bytes (raw_vlen_strings.hpp).
#include "raw_vlen_strings.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "pearl/io/hdf5.hpp"

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
  H5E_BEGIN_TRY {
    const Handle dcpl(H5Dget_create_plist(dataset));
    const Handle fcpl(H5Fget_create_plist(file_id));
    hsize_t userblock = 0;
    const haddr_t offset = H5Dget_offset(dataset);
    if (!dcpl.valid() || !fcpl.valid() || H5Pget_layout(dcpl.id()) != H5D_CONTIGUOUS || H5Pget_nfilters(dcpl.id()) != 0 ||
        H5Pget_external_count(dcpl.id()) != 0 || offset == HADDR_UNDEF ||
        H5Pget_sizes(fcpl.id(), &raw->addr_bytes_, &raw->len_bytes_) < 0 ||
        H5Pget_userblock(fcpl.id(), &userblock) < 0) {
      raw.reset();
    } else {
      raw->base_ = userblock;
      raw->data_ = offset;
    }
  }
  H5E_END_TRY;
  H5Eclear2(H5E_DEFAULT);
  if (!raw || raw->addr_bytes_ < 1 || raw->addr_bytes_ > 8 || raw->len_bytes_ < 1 || raw->len_bytes_ > 8) return nullptr;
  raw->member_ = member;
  raw->record_ = record == 0 ? raw->element_bytes() : record;
  raw->rows_ = rows;
  if (raw->member_ + raw->element_bytes() > raw->record_) return nullptr;
  // The dataset's storage is its records exactly, and within the file.
  if (H5Dget_storage_size(dataset) != rows * raw->record_) return nullptr;
  raw->fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (raw->fd_ < 0 || ::fstat(raw->fd_, &st) != 0) return nullptr;
  raw->file_bytes_ = static_cast<std::uint64_t>(st.st_size);
  if (raw->data_ > raw->file_bytes_ || rows * raw->record_ > raw->file_bytes_ - raw->data_) return nullptr;
  return raw;
}

std::unique_ptr<RawVlenStrings> RawVlenStrings::open_member(const std::filesystem::path& file, hid_t file_id,
                                                            hid_t dataset, std::uint64_t rows, const std::string& name) {
  std::size_t addr_bytes = 0, len_bytes = 0;
  {
    const Handle fcpl(H5Fget_create_plist(file_id));
    if (!fcpl.valid() || H5Pget_sizes(fcpl.id(), &addr_bytes, &len_bytes) < 0) return nullptr;
  }
  const Handle type(H5Dget_type(dataset));
  if (!type.valid() || H5Tget_class(type.id()) != H5T_COMPOUND) return nullptr;
  const int members = H5Tget_nmembers(type.id());
  const std::size_t disk_element = 8 + addr_bytes;  // a variable-length string on disk
  struct Member {
    std::size_t offset, size;
    bool vlen;
    bool wanted;
  };
  std::vector<Member> list;
  for (int m = 0; m < members; ++m) {
    const auto u = static_cast<unsigned>(m);
    const Handle mt(H5Tget_member_type(type.id(), u));
    if (!mt.valid()) return nullptr;
    const H5T_class_t c = H5Tget_class(mt.id());
    const bool vlen = c == H5T_STRING && H5Tis_variable_str(mt.id()) > 0;
    if (c != H5T_INTEGER && c != H5T_FLOAT && c != H5T_STRING) return nullptr;  // nothing else moves on disk
    if (vlen && H5Tget_size(mt.id()) != sizeof(char*)) return nullptr;
    char* raw = H5Tget_member_name(type.id(), u);
    const bool wanted = raw != nullptr && name == raw;
    H5free_memory(raw);
    list.push_back({H5Tget_member_offset(type.id(), u), H5Tget_size(mt.id()), vlen, wanted});
  }
  std::sort(list.begin(), list.end(), [](const Member& a, const Member& b) { return a.offset < b.offset; });
  // Back from memory to disk: every variable-length string before a member shifted it by
  // the difference between its memory and its disk size.
  std::size_t shift = 0;
  std::size_t member = 0;
  bool found = false;
  for (const auto& m : list) {
    if (m.wanted) {
      if (!m.vlen) return nullptr;
      member = m.offset + shift;
      found = true;
    }
    if (m.vlen) shift += disk_element - sizeof(char*);
  }
  H5Eclear2(H5E_DEFAULT);
  if (!found) return nullptr;
  return open(file, file_id, dataset, rows, member, H5Tget_size(type.id()) + shift);
}

RawVlenStrings::~RawVlenStrings() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawVlenStrings::read_at(void* into, std::size_t n, std::uint64_t offset) const {
  auto* p = static_cast<unsigned char*>(into);
  while (n > 0) {
    const ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
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
