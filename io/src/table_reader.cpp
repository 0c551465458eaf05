// The table reader: construction, the per-column plan that check() and read() share,
// and read dispatch to the two layouts' read paths.
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
#include <type_traits>
#include <utility>
#include <variant>

#include "table_reader_impl.hpp"

namespace pearl::io {

namespace {

std::string normalise(std::string_view path) {
  std::string p(path);
  if (p.empty() || p.front() != '/') p.insert(p.begin(), '/');
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

namespace detail {

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
               std::uint64_t begin, std::uint64_t count, hid_t transfer) {
  check_status(H5Dread(dataset, mem_type, sel.mem.id(), sel.file.id(), transfer, buf),
               what + ": cannot read rows " + std::to_string(begin) + ".." + std::to_string(begin + count) +
                   " (damaged or truncated file?)",
               true);
}

}  // namespace detail

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

std::vector<detail::ReadPlan> TableReader::Impl::plan(const TableInfo& info,
                                                      const std::vector<ColumnSpec>& projection) const {
  const std::string where = info.where();
  std::vector<detail::ReadPlan> plans;
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
  const std::vector<detail::ReadPlan> plans = impl_->plan(info_, projection);
  const bool reusable =
      out.size() == plans.size() &&
      std::equal(plans.begin(), plans.end(), out.begin(), [](const detail::ReadPlan& p, const ColumnData& c) {
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
          if (std::is_same_v<std::decay_t<decltype(v)>, std::vector<std::string>> || n == 0) v.clear();
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

}  // namespace pearl::io
