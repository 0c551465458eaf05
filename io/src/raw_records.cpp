// Compound records read as they lie in the file (raw_records.hpp).
#include "raw_records.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "pearl/io/hdf5.hpp"

namespace pearl::io::detail {

bool pread_all(int fd, void* into, std::size_t n, std::uint64_t offset) noexcept {
  auto* p = static_cast<unsigned char*>(into);
  while (n > 0) {
    const ssize_t got = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

std::optional<ContiguousData> open_contiguous(const std::filesystem::path& file, hid_t dataset, std::uint64_t bytes) {
  haddr_t offset = HADDR_UNDEF;
  bool plain = false;
  H5E_BEGIN_TRY {
    const Handle dcpl(H5Dget_create_plist(dataset));
    plain = dcpl.valid() && H5Pget_layout(dcpl.id()) == H5D_CONTIGUOUS && H5Pget_nfilters(dcpl.id()) == 0 &&
            H5Pget_external_count(dcpl.id()) == 0;
    offset = H5Dget_offset(dataset);  // absolute: the user block included
  }
  H5E_END_TRY;
  H5Eclear2(H5E_DEFAULT);
  if (!plain || offset == HADDR_UNDEF || H5Dget_storage_size(dataset) != bytes) return std::nullopt;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0) return std::nullopt;
  const auto size = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  if (offset > size || bytes > size - offset) {
    ::close(fd);
    return std::nullopt;
  }
  return ContiguousData{fd, offset, size};
}

std::optional<DiskLayout> compound_disk_layout(hid_t file_id, hid_t dataset) {
  std::size_t addr_bytes = 0, len_bytes = 0;
  {
    const Handle fcpl(H5Fget_create_plist(file_id));
    if (!fcpl.valid() || H5Pget_sizes(fcpl.id(), &addr_bytes, &len_bytes) < 0) return std::nullopt;
  }
  const Handle type(H5Dget_type(dataset));
  if (!type.valid() || H5Tget_class(type.id()) != H5T_COMPOUND) return std::nullopt;
  const int members = H5Tget_nmembers(type.id());
  DiskLayout layout;
  for (int m = 0; m < members; ++m) {
    const auto u = static_cast<unsigned>(m);
    const Handle mt(H5Tget_member_type(type.id(), u));
    if (!mt.valid()) return std::nullopt;
    const H5T_class_t c = H5Tget_class(mt.id());
    if (c != H5T_INTEGER && c != H5T_FLOAT && c != H5T_STRING) return std::nullopt;  // nothing else moves on disk
    const bool vlen = c == H5T_STRING && H5Tis_variable_str(mt.id()) > 0;
    if (vlen && H5Tget_size(mt.id()) != sizeof(char*)) return std::nullopt;
    char* raw = H5Tget_member_name(type.id(), u);
    if (raw == nullptr) return std::nullopt;
    layout.members.push_back({raw, H5Tget_member_offset(type.id(), u), vlen ? 8 + addr_bytes : H5Tget_size(mt.id()), vlen});
    H5free_memory(raw);
  }
  std::vector<DiskLayout::Member*> by_offset;
  for (auto& m : layout.members) by_offset.push_back(&m);
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) { return a->offset < b->offset; });
  // Back from memory to disk: each variable-length string before a member moved it by its
  // disk size (length 4, heap address, object index 4) less its memory size (a pointer).
  std::size_t shift = 0;
  for (auto* m : by_offset) {
    m->offset += shift;
    if (m->vlen_string) shift += 8 + addr_bytes - sizeof(char*);
  }
  layout.record = H5Tget_size(type.id()) + shift;
  H5Eclear2(H5E_DEFAULT);
  for (const auto& m : layout.members) {
    if (m.offset > layout.record || m.size > layout.record - m.offset) return std::nullopt;
  }
  return layout;
}

std::unique_ptr<RawRecords> RawRecords::open(const std::filesystem::path& file, hid_t file_id, hid_t dataset,
                                             std::uint64_t rows) {
  auto layout = compound_disk_layout(file_id, dataset);
  if (!layout || layout->record == 0) return nullptr;
  const auto data = open_contiguous(file, dataset, rows * layout->record);
  if (!data) return nullptr;
  std::unique_ptr<RawRecords> raw(new RawRecords());
  raw->fd_ = data->fd;
  raw->data_ = data->offset;
  raw->rows_ = rows;
  raw->layout_ = std::move(*layout);
  return raw;
}

RawRecords::~RawRecords() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t RawRecords::offset_of(const std::string& member, std::size_t bytes) const noexcept {
  for (const auto& m : layout_.members) {
    if (m.name == member) return m.size == bytes ? m.offset : npos;
  }
  return npos;
}

bool RawRecords::read(std::uint64_t begin, std::uint64_t n, std::byte* out) const {
  return begin <= rows_ && n <= rows_ - begin && pread_all(fd_, out, n * layout_.record, data_ + begin * layout_.record);
}

}  // namespace pearl::io::detail
