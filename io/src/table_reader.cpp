// The table reader: layout detection at open, projected reads with lossless conversion.
//
// Numeric reads take one of two paths, decided per column from the types alone
// (stored_type.hpp): when the stored type is the contract type (exact) HDF5 reads
// straight into the result vector, with no extra copy; otherwise blocks are read at the
// stored width and converted in C++, with a range check when only some values fit
// (checked), so a bad value is reported with its row instead of being clipped silently
// by HDF5's conversion. Widening goes the same way because HDF5's own integer
// conversion measured about twice as slow as the C++ loop.
#include "pearl/io/table_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <limits>
#include <sstream>
#include <utility>

#include "h5util.hpp"

namespace pearl::io {

namespace {

using detail::native;
using detail::with_numeric;
using detail::with_stored;

/// Rows per block on the paths that need a staging buffer (checked numbers, strings).
constexpr std::uint64_t kBlockRows = 1 << 16;
/// Bytes of staging buffer for one block of a compound read.
constexpr std::size_t kCompoundBlockBytes = std::size_t{4} << 20;

std::string normalise(std::string_view path) {
  std::string p(path);
  if (p.empty() || p.front() != '/') p.insert(p.begin(), '/');
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string join(const std::string& group, const std::string& name) {
  return group == "/" ? "/" + name : group + "/" + name;
}

std::string last_component(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_values_block(const std::string& name) {
  constexpr std::string_view prefix = "values_block_";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

std::string pandas_hint(const TableInfo& info, const std::string& key) {
  return "rewrite it from pandas with df.to_hdf(\"" + info.file.filename().string() + "\", key=\"" + key +
         "\", format=\"table\", data_columns=True, index=False) (index=False because PyTables cannot index uint64 "
         "columns), or write one 1-D dataset per column";
}

/// A hyperslab of rows [begin, begin + count) of a 1-D dataset and the matching memory space.
struct Selection {
  Handle file;
  Handle mem;
};

Selection select_rows(hid_t dataset, std::uint64_t begin, std::uint64_t count, const std::string& what) {
  Selection s;
  s.file = io::check(H5Dget_space(dataset), what + ": cannot read the dataspace");
  const hsize_t start = begin;
  const hsize_t n = count;
  check_status(H5Sselect_hyperslab(s.file.id(), H5S_SELECT_SET, &start, nullptr, &n, nullptr),
               what + ": cannot select rows " + std::to_string(begin) + ".." + std::to_string(begin + count));
  s.mem = io::check(H5Screate_simple(1, &n, nullptr), what + ": cannot create a memory space");
  return s;
}

void read_rows(hid_t dataset, hid_t mem_type, const Selection& sel, void* buf, const std::string& what,
               std::uint64_t begin, std::uint64_t count) {
  check_status(H5Dread(dataset, mem_type, sel.mem.id(), sel.file.id(), H5P_DEFAULT, buf),
               what + ": cannot read rows " + std::to_string(begin) + ".." + std::to_string(begin + count) +
                   " (damaged or truncated file?)",
               true);
}

template <class V>
std::string show(V v) {
  if constexpr (std::is_integral_v<V>) {
    return std::to_string(v);
  } else {
    std::ostringstream s;
    s << std::setprecision(std::numeric_limits<V>::max_digits10) << v;
    return s.str();
  }
}

/// Whether stored value v converts to To without loss (the checked conversions).
template <class To, class From>
bool fits(From v) noexcept {
  if constexpr (std::is_integral_v<To> && std::is_integral_v<From>) {
    return std::in_range<To>(v);
  } else if constexpr (std::is_floating_point_v<To> && std::is_integral_v<From>) {
    // Every integer up to 2^digits (2^24 float, 2^53 double) is exact.
    constexpr std::uint64_t lim = std::uint64_t{1} << std::numeric_limits<To>::digits;
    if constexpr (std::is_signed_v<From>) {
      const auto x = static_cast<std::int64_t>(v);
      return x >= -static_cast<std::int64_t>(lim) && x <= static_cast<std::int64_t>(lim);
    } else {
      return static_cast<std::uint64_t>(v) <= lim;
    }
  } else if constexpr (std::is_floating_point_v<To> && std::is_floating_point_v<From>) {
    if (std::isnan(v) || std::isinf(v)) return true;  // NaN and ±inf survive narrowing
    if (std::fabs(v) > static_cast<From>(std::numeric_limits<To>::max())) return false;
    return static_cast<From>(static_cast<To>(v)) == v;
  } else {
    return false;  // float → integer: refused by conversion() before any read
  }
}

/// Context for value errors.
struct ColumnContext {
  const std::string& where;
  const std::string& column;
  DType target;
};

[[noreturn]] void value_error(const ColumnContext& c, const std::string& value, std::uint64_t row, bool exactness) {
  throw InputError(c.where + ": column '" + c.column + "': value " + value + " at row " + std::to_string(row) +
                   (exactness ? " cannot be stored exactly as " : " does not fit ") + std::string(dtype_name(c.target)));
}

/// Converts n stored values (stride bytes apart from base) into out, checking each.
template <class To, class From>
void convert_checked(const std::byte* base, std::size_t stride, std::size_t n, To* out, std::uint64_t first_row,
                     const ColumnContext& c) {
  if constexpr (std::is_integral_v<From>) {
    // The common case, a contiguous block whose values all fit: integer range checks are
    // monotonic, so the block's minimum and maximum decide, and both loops vectorise.
    if (stride == sizeof(From) && n > 0) {
      const auto* src = reinterpret_cast<const From*>(base);
      From lo = src[0];
      From hi = src[0];
      for (std::size_t i = 1; i < n; ++i) {
        lo = std::min(lo, src[i]);
        hi = std::max(hi, src[i]);
      }
      if (fits<To>(lo) && fits<To>(hi)) {
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<To>(src[i]);
        return;
      }
    }
  }
  // Otherwise value by value, so the first offending row is the one reported.
  for (std::size_t i = 0; i < n; ++i) {
    From v;
    std::memcpy(&v, base + i * stride, sizeof v);
    if (!fits<To>(v)) value_error(c, show(v), first_row + i, std::is_floating_point_v<To>);
    out[i] = static_cast<To>(v);
  }
}

/// Copies n values of exactly type T (stride bytes apart) into out.
template <class T>
void copy_strided(const std::byte* base, std::size_t stride, std::size_t n, T* out) {
  for (std::size_t i = 0; i < n; ++i) std::memcpy(out + i, base + i * stride, sizeof(T));
}

/// What read() does for one requested column.
struct Plan {
  const ColumnSpec* spec;
  std::size_t column;  // index into TableInfo::columns
  Conversion conv;
};

}  // namespace

struct TableReader::Impl {
  std::shared_ptr<const File> file;
  Handle compound;              // compound layout: the dataset
  std::vector<Handle> datasets;  // columnar layout: one per column, parallel to info.columns
  std::vector<Handle> types;     // file type per column (compound: the member's type)
  std::vector<std::byte> scratch;  // staging for converted and compound reads, kept across batches

  /// scratch as at least `bytes` bytes (grown, never shrunk: no allocation per batch).
  std::byte* staging(std::size_t bytes) {
    if (scratch.size() < bytes) scratch.resize(bytes);
    return scratch.data();
  }

  void open(TableInfo& info);
  void open_group(TableInfo& info, Handle group);
  void open_compound(TableInfo& info, Handle dataset, const std::string& object);

  std::vector<Plan> plan(const TableInfo& info, const std::vector<ColumnSpec>& projection) const;
  void read_columnar(const TableInfo& info, const Plan& p, std::uint64_t begin, std::uint64_t n, ColumnData& out);
  void read_compound(const TableInfo& info, const std::vector<Plan>& plans, std::uint64_t begin, std::uint64_t n,
                     std::vector<ColumnData>& out);
};

TableReader::TableReader(const std::filesystem::path& file, std::string_view path)
    : TableReader(std::make_shared<const File>(File::open_read(file)), path) {}

TableReader::TableReader(std::shared_ptr<const File> file, std::string_view path) : impl_(std::make_unique<Impl>()) {
  info_.file = file->path();
  info_.path = normalise(path);
  impl_->file = std::move(file);
  impl_->open(info_);
}

TableReader::TableReader(TableReader&&) noexcept = default;
TableReader& TableReader::operator=(TableReader&&) noexcept = default;
TableReader::~TableReader() = default;

void TableReader::Impl::open(TableInfo& info) {
  const hid_t fid = file->id();
  const std::string where = info.where();
  if (!detail::path_exists(fid, info.path)) {
    std::string have;
    const Handle root = io::check(H5Gopen2(fid, "/", H5P_DEFAULT), info.file.string() + ": cannot open the root group", true);
    for (const auto& name : detail::list_links(root.id(), info.file.string())) have += (have.empty() ? "" : ", ") + ("/" + name);
    throw InputError(where + ": not found in the file (top level: " + (have.empty() ? std::string("nothing") : have) +
                     "; give the table's path as NAME=GLOB:/path)");
  }
  Handle obj = io::check(H5Oopen(fid, info.path.c_str(), H5P_DEFAULT), where + ": cannot open", true);
  switch (H5Iget_type(obj.id())) {
    case H5I_GROUP: open_group(info, std::move(obj)); return;
    case H5I_DATASET: {
      const Handle type = io::check(H5Dget_type(obj.id()), where + ": cannot read the dataset's type", true);
      if (H5Tget_class(type.id()) == H5T_COMPOUND) {
        open_compound(info, std::move(obj), info.path);
        return;
      }
      throw InputError(where + ": is a single " + detail::describe_type(type.id()).name() +
                       " dataset, not a table (a table is a group of 1-D column datasets or a 1-D compound dataset)");
    }
    default: throw InputError(where + ": is neither a group nor a dataset, not a table");
  }
}

void TableReader::Impl::open_group(TableInfo& info, Handle group) {
  const std::string where = info.where();
  const std::vector<std::string> names = detail::list_links(group.id(), where);
  // pandas format="table": the compound dataset lives at /<key>/table.
  if (std::find(names.begin(), names.end(), "table") != names.end()) {
    Handle child = io::check(H5Oopen(group.id(), "table", H5P_DEFAULT), where + ": cannot open member 'table'", true);
    if (H5Iget_type(child.id()) == H5I_DATASET) {
      const Handle type = io::check(H5Dget_type(child.id()), where + ": cannot read the type of 'table'", true);
      if (H5Tget_class(type.id()) == H5T_COMPOUND) {
        open_compound(info, std::move(child), join(info.path, "table"));
        return;
      }
    }
  }
  // pandas' default format="fixed": blockN_values 2-D arrays, names in blockN_items.
  if (H5Aexists(group.id(), "pandas_type") > 0 ||
      std::find(names.begin(), names.end(), "block0_values") != names.end()) {
    throw InputError(where + ": written by pandas in its default 'fixed' format, which packs columns into "
                     "blockN_values arrays; " + pandas_hint(info, last_component(info.path)));
  }
  H5Eclear2(H5E_DEFAULT);

  info.layout = Layout::columnar;
  info.object = info.path;
  bool first = true;
  std::string first_name;
  for (const auto& name : names) {
    const std::string path = join(info.path, name);
    Handle obj(H5Oopen(group.id(), name.c_str(), H5P_DEFAULT));
    if (!obj.valid()) {
      H5Eclear2(H5E_DEFAULT);  // a dangling link is not a column
      continue;
    }
    if (H5Iget_type(obj.id()) != H5I_DATASET) continue;
    const std::vector<hsize_t> dims = detail::dims_of(obj.id(), info.file.string() + ": " + path);
    if (dims.size() != 1) continue;  // scalars and matrices are not columns
    Handle type = io::check(H5Dget_type(obj.id()), info.file.string() + ": " + path + ": cannot read the type", true);
    if (H5Tget_class(type.id()) == H5T_COMPOUND) {  // a table of its own, or complex numbers: not a column
      info.unsupported.push_back({name, detail::describe_type(type.id()), path, {}});
      continue;
    }
    if (first) {
      info.rows = dims[0];
      first_name = name;
      first = false;
    } else if (dims[0] != info.rows) {
      throw InputError(where + ": columns differ in length: '" + first_name + "' has " + std::to_string(info.rows) +
                       " rows, '" + name + "' has " + std::to_string(dims[0]) +
                       " (a columnar table's 1-D datasets must all have the same length)");
    }
    ColumnInfo col;
    col.name = name;
    col.stored = detail::describe_type(type.id());
    col.dataset = path;
    col.storage = detail::storage_of(obj.id(), info.file.string() + ": " + path);
    // Closed first: HDF5 shares one object among a dataset's open handles, and its
    // chunk cache is the one the first open asked for.
    obj = Handle();
    obj = detail::open_for_reading(group.id(), name, col.storage, info.file.string() + ": " + path);
    info.columns.push_back(std::move(col));
    datasets.push_back(std::move(obj));
    types.push_back(std::move(type));
  }
  if (info.columns.empty()) {
    throw InputError(where + ": the group holds no 1-D datasets, so no columns (a table is a group of 1-D column "
                     "datasets or a 1-D compound dataset)");
  }
}

void TableReader::Impl::open_compound(TableInfo& info, Handle dataset, const std::string& object) {
  const std::string where = info.where();
  const std::vector<hsize_t> dims = detail::dims_of(dataset.id(), where);
  if (dims.size() != 1) {
    throw InputError(where + ": compound dataset " + object + " has " + std::to_string(dims.size()) +
                     " dimensions; a compound table must be 1-D");
  }
  info.layout = Layout::compound;
  info.object = object;
  info.rows = dims[0];
  const Handle type = io::check(H5Dget_type(dataset.id()), where + ": cannot read the compound type", true);
  const StorageInfo storage = detail::storage_of(dataset.id(), where);
  const int members = H5Tget_nmembers(type.id());
  if (members < 0) fail(where + ": cannot read the compound type's members", true);
  for (int m = 0; m < members; ++m) {
    char* raw = H5Tget_member_name(type.id(), static_cast<unsigned>(m));
    if (raw == nullptr) fail(where + ": cannot read a member name", true);
    std::string name(raw);
    H5free_memory(raw);
    if (is_values_block(name)) {
      const std::string key = object.size() > 6 && object.ends_with("/table")
                                  ? last_component(object.substr(0, object.size() - 6))
                                  : last_component(info.path);
      throw InputError(where + ": written by pandas without data_columns=True: its columns are packed into "
                       "values_block_N members and their names exist only in pickled Python attributes; " +
                       pandas_hint(info, key));
    }
    Handle mtype = io::check(H5Tget_member_type(type.id(), static_cast<unsigned>(m)),
                         where + ": cannot read the type of member '" + name + "'", true);
    ColumnInfo col;
    col.name = std::move(name);
    col.stored = detail::describe_type(mtype.id());
    col.dataset = object;
    col.storage = storage;
    info.columns.push_back(std::move(col));
    types.push_back(std::move(mtype));
  }
  dataset = Handle();  // closed first, as in open_group: the first open sets the chunk cache
  compound = detail::open_for_reading(file->id(), object, storage, where);
}

std::vector<Plan> TableReader::Impl::plan(const TableInfo& info, const std::vector<ColumnSpec>& projection) const {
  const std::string where = info.where();
  std::vector<Plan> plans;
  plans.reserve(projection.size());
  for (std::size_t i = 0; i < projection.size(); ++i) {
    const ColumnSpec& spec = projection[i];
    for (std::size_t j = 0; j < i; ++j) {
      if (projection[j].name == spec.name) throw InputError(where + ": column '" + spec.name + "' is requested twice");
    }
    const ColumnInfo* col = info.find(spec.name);
    if (col == nullptr) {
      for (const auto& u : info.unsupported) {
        if (u.name == spec.name) {
          throw InputError(where + ": column '" + spec.name + "' has an unsupported type (" + u.stored.name() +
                           "); a column holds integers, floats or strings");
        }
      }
      std::string have;
      for (const auto& c : info.columns) have += (have.empty() ? "" : ", ") + c.name;
      throw InputError(where + ": no column '" + spec.name + "' (the table has: " + have + ")");
    }
    const Conversion conv = conversion(col->stored, spec.type);
    if (conv == Conversion::none) {
      throw InputError(where + ": column '" + spec.name + "' is stored as " + col->stored.name() + ", expected " +
                       std::string(dtype_name(spec.type)) + ": " + why_not_convertible(col->stored, spec.type));
    }
    for (const auto& f : col->storage.filters) {
      if (!f.available) {
        throw InputError(where + ": column '" + spec.name + "' is compressed with " + f.describe() +
                         ", which this HDF5 build cannot decode (rewrite it with gzip/deflate)");
      }
    }
    plans.push_back({&spec, static_cast<std::size_t>(col - info.columns.data()), conv});
  }
  return plans;
}

void TableReader::check(const std::vector<ColumnSpec>& projection) const { (void)impl_->plan(info_, projection); }

std::uint64_t TableReader::chunk_rows(const std::vector<ColumnSpec>& projection) const {
  std::uint64_t rows = 0;
  for (const auto& spec : projection) {
    if (const ColumnInfo* c = info_.find(spec.name)) rows = std::max(rows, c->storage.chunk_rows);
  }
  return rows;
}

std::vector<ColumnData> TableReader::read(const std::vector<ColumnSpec>& projection, std::uint64_t begin,
                                          std::uint64_t end) {
  std::vector<ColumnData> out;
  read_into(projection, begin, end, out);
  return out;
}

void TableReader::read_into(const std::vector<ColumnSpec>& projection, std::uint64_t begin, std::uint64_t end,
                            std::vector<ColumnData>& out) {
  if (begin > end || end > info_.rows) {
    throw Error(info_.where() + ": rows " + std::to_string(begin) + ".." + std::to_string(end) +
                " are outside the table's " + std::to_string(info_.rows) + " rows");
  }
  const std::vector<Plan> plans = impl_->plan(info_, projection);
  const bool reusable = out.size() == plans.size() && std::equal(plans.begin(), plans.end(), out.begin(),
                                                                 [](const Plan& p, const ColumnData& c) {
                                                                   return c.index() == make_column(p.spec->type).index();
                                                                 });
  if (!reusable) {
    out.clear();
    out.reserve(plans.size());
    for (const auto& p : plans) out.push_back(make_column(p.spec->type));
  }
  // Numeric columns keep their size until the reads below resize them to n: a batch of
  // the same size as the last is overwritten in place, without zeroing or new pages.
  const std::uint64_t n = end - begin;
  for (auto& column : out) {
    std::visit(
        [n](auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<std::string>>) {
            v.clear();
          } else if (n == 0) {
            v.clear();
          }
        },
        column);
  }
  if (n == 0) return;
  if (info_.layout == Layout::compound) {
    impl_->read_compound(info_, plans, begin, n, out);
  } else {
    for (std::size_t i = 0; i < plans.size(); ++i) impl_->read_columnar(info_, plans[i], begin, n, out[i]);
  }
}

void TableReader::Impl::read_columnar(const TableInfo& info, const Plan& p, std::uint64_t begin, std::uint64_t n,
                                      ColumnData& out) {
  const ColumnInfo& col = info.columns[p.column];
  const hid_t dset = datasets[p.column].id();
  const std::string where = info.where();
  const std::string what = where + ": column '" + col.name + "'";

  if (p.spec->type == DType::str) {
    auto& values = std::get<std::vector<std::string>>(out);
    values.reserve(n);
    const Handle mt = detail::string_memory_type(types[p.column].id(), col.stored, what);
    const std::uint64_t block = std::min(n, kBlockRows);
    if (col.stored.variable) {
      std::vector<char*> buf(block);
      for (std::uint64_t off = 0; off < n; off += block) {
        const std::uint64_t m = std::min(block, n - off);
        const Selection sel = select_rows(dset, begin + off, m, what);
        read_rows(dset, mt.id(), sel, buf.data(), what, begin + off, m);
        const detail::VlenGuard guard(mt.id(), sel.mem.id(), buf.data());
        for (std::uint64_t i = 0; i < m; ++i) values.emplace_back(buf[i] != nullptr ? buf[i] : "");
      }
    } else {
      const std::size_t size = col.stored.size;
      std::vector<char> buf(block * size);
      for (std::uint64_t off = 0; off < n; off += block) {
        const std::uint64_t m = std::min(block, n - off);
        const Selection sel = select_rows(dset, begin + off, m, what);
        read_rows(dset, mt.id(), sel, buf.data(), what, begin + off, m);
        for (std::uint64_t i = 0; i < m; ++i) values.push_back(detail::decode_fixed(buf.data() + i * size, size, col.stored.pad));
      }
    }
    return;
  }

  with_numeric(p.spec->type, [&]<class T>(std::type_identity<T>) {
    auto& values = std::get<std::vector<T>>(out);
    values.resize(n);
    if (p.conv == Conversion::exact) {
      // The contract type as stored (byte order aside): HDF5 reads straight into the result.
      const Selection sel = select_rows(dset, begin, n, what);
      read_rows(dset, native<T>(), sel, values.data(), what, begin, n);
      return;
    }
    with_stored(col.stored, [&]<class S>(std::type_identity<S>) {
      const ColumnContext ctx{where, col.name, p.spec->type};
      const std::uint64_t block = std::min(n, kBlockRows);
      // operator new's alignment suits every numeric S
      S* buf = reinterpret_cast<S*>(staging(block * sizeof(S)));
      for (std::uint64_t off = 0; off < n; off += block) {
        const std::uint64_t m = std::min(block, n - off);
        const Selection sel = select_rows(dset, begin + off, m, what);
        read_rows(dset, native<S>(), sel, buf, what, begin + off, m);
        convert_checked<T, S>(reinterpret_cast<const std::byte*>(buf), sizeof(S), m, values.data() + off,
                              begin + off, ctx);
      }
    });
  });
}

void TableReader::Impl::read_compound(const TableInfo& info, const std::vector<Plan>& plans, std::uint64_t begin,
                                      std::uint64_t n, std::vector<ColumnData>& out) {
  const std::string where = info.where();
  // One memory compound with only the requested members, packed: HDF5 reads each
  // record once and gathers just these fields (column projection).
  struct Member {
    Handle type;  // owned memory type (strings); numeric members use HDF5's native types
    hid_t id;
    std::size_t offset;
  };
  std::vector<Member> members;
  members.reserve(plans.size());
  std::size_t record = 0;
  bool has_vlen = false;
  for (const auto& p : plans) {
    const ColumnInfo& col = info.columns[p.column];
    Member m{Handle(), H5I_INVALID_HID, record};
    std::size_t size = 0;
    if (p.spec->type == DType::str) {
      m.type = detail::string_memory_type(types[p.column].id(), col.stored, where + ": column '" + col.name + "'");
      m.id = m.type.id();
      size = col.stored.variable ? sizeof(char*) : col.stored.size;
      has_vlen = has_vlen || col.stored.variable;
    } else if (p.conv != Conversion::exact) {
      with_stored(col.stored, [&]<class S>(std::type_identity<S>) {
        m.id = native<S>();
        size = sizeof(S);
      });
    } else {
      with_numeric(p.spec->type, [&]<class T>(std::type_identity<T>) {
        m.id = native<T>();
        size = sizeof(T);
      });
    }
    record += size;
    members.push_back(std::move(m));
  }
  const Handle mem_type = io::check(H5Tcreate(H5T_COMPOUND, record), where + ": cannot create the memory type");
  for (std::size_t j = 0; j < plans.size(); ++j) {
    check_status(H5Tinsert(mem_type.id(), plans[j].spec->name.c_str(), members[j].offset, members[j].id),
                 where + ": cannot add member '" + plans[j].spec->name + "' to the memory type");
  }

  for (std::size_t j = 0; j < plans.size(); ++j) {
    std::visit(
        [&](auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<std::string>>) {
            v.reserve(n);
          } else {
            v.resize(n);
          }
        },
        out[j]);
  }

  const std::uint64_t block = std::min<std::uint64_t>(n, std::max<std::size_t>(1, kCompoundBlockBytes / record));
  std::byte* const buf = staging(block * record);
  const hid_t dset = compound.id();
  for (std::uint64_t off = 0; off < n; off += block) {
    const std::uint64_t m = std::min(block, n - off);
    const Selection sel = select_rows(dset, begin + off, m, where);
    read_rows(dset, mem_type.id(), sel, buf, where, begin + off, m);
    const detail::VlenGuard guard(mem_type.id(), sel.mem.id(), has_vlen ? buf : nullptr);
    for (std::size_t j = 0; j < plans.size(); ++j) {
      const Plan& p = plans[j];
      const ColumnInfo& col = info.columns[p.column];
      const std::byte* base = buf + members[j].offset;
      if (p.spec->type == DType::str) {
        auto& values = std::get<std::vector<std::string>>(out[j]);
        for (std::uint64_t i = 0; i < m; ++i) {
          const std::byte* at = base + i * record;
          if (col.stored.variable) {
            const char* s = nullptr;
            std::memcpy(&s, at, sizeof s);
            values.emplace_back(s != nullptr ? s : "");
          } else {
            values.push_back(detail::decode_fixed(reinterpret_cast<const char*>(at), col.stored.size, col.stored.pad));
          }
        }
        continue;
      }
      with_numeric(p.spec->type, [&]<class T>(std::type_identity<T>) {
        T* dst = std::get<std::vector<T>>(out[j]).data() + off;
        if (p.conv == Conversion::exact) {
          copy_strided<T>(base, record, m, dst);
          return;
        }
        with_stored(col.stored, [&]<class S>(std::type_identity<S>) {
          convert_checked<T, S>(base, record, m, dst, begin + off, ColumnContext{where, col.name, p.spec->type});
        });
      });
    }
  }
}

}  // namespace pearl::io
