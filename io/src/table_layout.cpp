// The table reader's layout detection at open: what is at the table's path, a columnar
// group (one 1-D dataset per column) or a 1-D compound dataset (h5py structured arrays,
// pandas format="table" at "/<key>/table"), and each column's stored type and storage.
#include <algorithm>
#include <string>
#include <utility>

#include "h5util.hpp"
#include "pandas_layouts.hpp"
#include "table_reader_impl.hpp"

namespace pearl::io {

namespace {

std::string join(const std::string& group, const std::string& name) {
  return group == "/" ? "/" + name : group + "/" + name;
}

}  // namespace

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
  detail::refuse_pandas_fixed(group.id(), names, info);

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
  if (const std::size_t record = H5Tget_size(type.id()); record > detail::kMaxRecordBytes) {
    throw InputError(where + ": compound dataset " + object + " has records of " + std::to_string(record) +
                     " bytes; pearl reads records of up to " + std::to_string(detail::kMaxRecordBytes) +
                     " bytes (a damaged type, or store long text as variable-length strings)");
  }
  const StorageInfo storage = detail::storage_of(dataset.id(), where);
  const int members = H5Tget_nmembers(type.id());
  if (members < 0) fail(where + ": cannot read the compound type's members", true);
  for (int m = 0; m < members; ++m) {
    char* raw = H5Tget_member_name(type.id(), static_cast<unsigned>(m));
    if (raw == nullptr) fail(where + ": cannot read a member name", true);
    std::string name(raw);
    H5free_memory(raw);
    detail::refuse_values_block(name, info, object);
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

}  // namespace pearl::io
