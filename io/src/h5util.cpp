// Private HDF5 helpers: describing types and storage, listing links, decoding strings.
#include "h5util.hpp"

#include <array>
#include <cstring>

namespace pearl::io::detail {

namespace {
std::string class_name(H5T_class_t c) {
  switch (c) {
    case H5T_TIME: return "time";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length sequence";
    case H5T_ARRAY: return "array";
    default: return "unsupported type";
  }
}

/// "compound {r float64, i float64}" (h5py's complex numbers): the members, so a reader
/// of the message sees what the column holds. Nested members are described the same way.
std::string describe_compound(hid_t type) {
  std::string out = "compound {";
  const int n = H5Tget_nmembers(type);
  for (int m = 0; m < n; ++m) {
    char* raw = H5Tget_member_name(type, static_cast<unsigned>(m));
    const Handle mt(H5Tget_member_type(type, static_cast<unsigned>(m)));
    out += (m > 0 ? ", " : "") + std::string(raw != nullptr ? raw : "?") + " " +
           (mt.valid() ? describe_type(mt.id()).name() : std::string("?"));
    if (raw != nullptr) H5free_memory(raw);
  }
  return out + "}";
}

herr_t collect_name(hid_t /*group*/, const char* name, const H5L_info_t* /*info*/, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}
}  // namespace

StoredType describe_type(hid_t type) {
  StoredType s;
  const H5T_class_t c = H5Tget_class(type);
  switch (c) {
    case H5T_INTEGER:
      s.cls = TypeClass::integer;
      s.size = H5Tget_size(type);
      s.is_signed = H5Tget_sign(type) == H5T_SGN_2;
      s.big_endian = H5Tget_order(type) == H5T_ORDER_BE;
      break;
    case H5T_FLOAT:
      s.cls = TypeClass::floating;
      s.size = H5Tget_size(type);
      s.is_signed = true;
      s.big_endian = H5Tget_order(type) == H5T_ORDER_BE;
      break;
    case H5T_STRING: {
      s.cls = TypeClass::string;
      s.variable = H5Tis_variable_str(type) > 0;
      s.size = s.variable ? 0 : H5Tget_size(type);
      const H5T_str_t pad = H5Tget_strpad(type);
      s.pad = pad == H5T_STR_SPACEPAD ? StringPad::space_padded
              : pad == H5T_STR_NULLPAD ? StringPad::null_padded
                                       : StringPad::null_terminated;
      s.charset = H5Tget_cset(type) == H5T_CSET_UTF8 ? Charset::utf8 : Charset::ascii;
      break;
    }
    default:
      s.cls = TypeClass::other;
      s.size = H5Tget_size(type);
      s.other = class_name(c);
      if (c == H5T_ENUM) s.other = "enum (e.g. NumPy bool)";
      if (c == H5T_COMPOUND) s.other = describe_compound(type);
      break;
  }
  H5Eclear2(H5E_DEFAULT);
  return s;
}

StorageInfo storage_of(hid_t dataset, const std::string& what) {
  StorageInfo info;
  const Handle dcpl = check(H5Dget_create_plist(dataset), what + ": cannot read the dataset's creation properties");
  if (H5Pget_layout(dcpl.id()) == H5D_CHUNKED) {
    std::array<hsize_t, H5S_MAX_RANK> dims{};
    if (H5Pget_chunk(dcpl.id(), H5S_MAX_RANK, dims.data()) >= 1) info.chunk_rows = dims[0];
  }
  const int n = H5Pget_nfilters(dcpl.id());
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0;
    unsigned config = 0;
    std::array<unsigned, 16> cd{};
    std::size_t cd_n = cd.size();
    std::array<char, 128> name{};
    const H5Z_filter_t id = H5Pget_filter2(dcpl.id(), static_cast<unsigned>(i), &flags, &cd_n, cd.data(), name.size(),
                                           name.data(), &config);
    if (id < 0) fail(what + ": cannot read filter " + std::to_string(i));
    Filter f;
    f.id = static_cast<int>(id);
    f.name = std::string(name.data(), strnlen(name.data(), name.size()));
    f.params.assign(cd.begin(), cd.begin() + static_cast<std::ptrdiff_t>(std::min(cd_n, cd.size())));
    f.available = H5Zfilter_avail(id) > 0;
    info.filters.push_back(std::move(f));
  }
  H5Eclear2(H5E_DEFAULT);
  return info;
}

namespace {

/// Refuses a dataset that declares more rows than it holds. A damaged header can claim
/// 2^45 rows for 60 bytes of storage, which would take days to read (found by
/// tests/fuzz, table_layout): no dataset extends past its own maximum, and contiguous or
/// compact storage is written whole, chunked storage chunk by chunk. Rows never written
/// read as the dataset's fill value: that is data only where the writer chose the fill
/// value (a sparse column whose missing rows read as -1, say); HDF5's default fill is
/// zeros, which no reader could tell from real zeros.
void check_written(hid_t dataset, const StorageInfo& storage, const std::string& what) {
  const Handle space = check(H5Dget_space(dataset), what + ": cannot read the dataspace");
  if (H5Sget_simple_extent_ndims(space.id()) != 1) return;
  hsize_t rows = 0;
  hsize_t most = 0;
  check_status(H5Sget_simple_extent_dims(space.id(), &rows, &most), what + ": cannot read the dimensions");
  if (most != H5S_UNLIMITED && rows > most) {
    throw InputError(what + ": corrupt: declares " + std::to_string(rows) + " rows, more than its maximum of " +
                     std::to_string(most));
  }
  if (rows == 0) return;
  const Handle dcpl = check(H5Dget_create_plist(dataset), what + ": cannot read the dataset's creation properties");
  const H5D_layout_t layout = H5Pget_layout(dcpl.id());
  // Virtual datasets and external files keep their rows elsewhere: HDF5 checks those.
  if (layout == H5D_VIRTUAL || H5Pget_external_count(dcpl.id()) > 0) return;
  hsize_t written = 0;
  if (layout == H5D_CHUNKED && storage.chunk_rows > 0) {
    hsize_t chunks = 0;
    if (H5Dget_num_chunks(dataset, space.id(), &chunks) < 0) fail(what + ": cannot count its chunks", true);
    written = chunks >= (rows + storage.chunk_rows - 1) / storage.chunk_rows ? rows : chunks * storage.chunk_rows;
  } else {
    const Handle type = check(H5Dget_type(dataset), what + ": cannot read the type", true);
    const std::size_t element = H5Tget_size(type.id());
    written = element == 0 ? rows : H5Dget_storage_size(dataset) / element;
  }
  if (written >= rows) return;
  H5D_fill_value_t fill = H5D_FILL_VALUE_ERROR;
  if (H5Pfill_value_defined(dcpl.id(), &fill) >= 0 && fill == H5D_FILL_VALUE_USER_DEFINED) return;
  throw InputError(what + ": declares " + std::to_string(rows) + " rows but holds data for only " +
                   std::to_string(written) +
                   " (a damaged file, or a dataset created and never or only partly written: the other rows would "
                   "read as zeros; a writer that means them as missing sets a fill value)");
}

}  // namespace

Handle open_for_reading(hid_t loc, const std::string& name, const StorageInfo& storage, const std::string& what) {
  const Handle dapl = check(H5Pcreate(H5P_DATASET_ACCESS), what + ": cannot create dataset access properties");
  if (storage.chunk_rows > 0 && storage.filters.empty()) {
    check_status(H5Pset_chunk_cache(dapl.id(), 0, 0, H5D_CHUNK_CACHE_W0_DEFAULT),
                 what + ": cannot set the chunk cache");
  }
  Handle dataset = check(H5Dopen2(loc, name.c_str(), dapl.id()), what + ": cannot open", true);
  // A corrupt chunk index can claim more bytes than the file holds, and libhdf5 then
  // allocates what a chunk claims before reading it (4 GiB for a size of 0xffffffff;
  // found by tests/fuzz, table_layout). No dataset can store more than its file.
  const Handle file(H5Iget_file_id(dataset.id()));
  hsize_t file_bytes = 0;
  if (file.valid() && H5Fget_filesize(file.id(), &file_bytes) >= 0) {
    const hsize_t stored = H5Dget_storage_size(dataset.id());
    if (stored > file_bytes) {
      throw InputError(what + ": corrupt: its storage claims " + std::to_string(stored) + " bytes in a file of " +
                       std::to_string(file_bytes));
    }
  }
  check_written(dataset.id(), storage, what);
  H5Eclear2(H5E_DEFAULT);
  return dataset;
}

std::vector<std::string> list_links(hid_t group, const std::string& what) {
  std::vector<std::string> names;
  hsize_t idx = 0;
  check_status(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, &names),
               what + ": cannot list the group's members", true);
  return names;
}

bool path_exists(hid_t file, const std::string& path) {
  if (path == "/") return true;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    const std::string prefix = path.substr(0, slash);
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    pos = slash + 1;
  }
  return true;
}

std::vector<hsize_t> dims_of(hid_t dataset, const std::string& what) {
  const Handle space = check(H5Dget_space(dataset), what + ": cannot read the dataspace");
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) fail(what + ": cannot read the dataspace", true);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0) check_status(H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr), what + ": cannot read the dimensions");
  return dims;
}

VlenArena::VlenArena()
    : dxpl_(check(H5Pcreate(H5P_DATASET_XFER), "cannot create a data transfer property list")) {
  check_status(H5Pset_vlen_mem_manager(dxpl_.id(), &VlenArena::allocate, this, &VlenArena::release, this),
               "cannot set the variable-length memory manager");
}

void VlenArena::reset() noexcept {
  current_ = 0;
  used_ = 0;
  large_.clear();
}

void* VlenArena::allocate(std::size_t bytes, void* arena) noexcept {
  try {
    return static_cast<VlenArena*>(arena)->take(bytes);
  } catch (...) {
    return nullptr;  // out of memory: HDF5 fails the read, which then reports it
  }
}

void* VlenArena::take(std::size_t bytes) {
  bytes = (bytes + 15) & ~std::size_t{15};  // malloc's alignment, whatever HDF5 stores there
  if (bytes > kBlock) return large_.emplace_back(std::make_unique_for_overwrite<std::byte[]>(bytes)).get();
  if (current_ == 0 || used_ + bytes > kBlock) {
    if (current_ == blocks_.size()) blocks_.push_back(std::make_unique_for_overwrite<std::byte[]>(kBlock));
    ++current_;
    used_ = 0;
  }
  std::byte* at = blocks_[current_ - 1].get() + used_;
  used_ += bytes;
  return at;
}

std::string decode_fixed(const char* p, std::size_t size, StringPad pad) {
  // Only trailing NULs are padding: a NUL with text after it is kept, so the row
  // checks report it (row_checks.hpp) instead of the value being cut short silently.
  std::size_t n = size;
  while (n > 0 && p[n - 1] == '\0') --n;
  if (pad == StringPad::space_padded) {
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0')) --n;
  }
  return std::string(p, n);
}

}  // namespace pearl::io::detail
