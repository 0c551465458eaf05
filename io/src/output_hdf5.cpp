// HDF5 for result files: the creation of files, table groups and datasets and the serial
// writing of their rows (the column types' HDF5 types are hdf5_types.hpp).
#include <algorithm>
#include <type_traits>

#include "hdf5_types.hpp"
#include "output_writer_detail.hpp"

namespace pearl::io::detail {

Handle create_file(const std::filesystem::path& path, hid_t fapl) {
  const std::string p = path.string();
  Handle fcpl = check(H5Pcreate(H5P_FILE_CREATE), p + ": file creation properties");
  check_status(H5Pset_link_creation_order(fcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
               p + ": link creation order");
  return check(H5Fcreate(p.c_str(), H5F_ACC_TRUNC, fcpl.id(), fapl), p + ": cannot create HDF5 file");
}

Handle create_table(hid_t file, const OutputTable& table, std::uint64_t total, const WriteOptions& options,
                    std::vector<Handle>& datasets, const std::string& what) {
  const std::string at = what + ": table /" + table.name();
  Handle gcpl = check(H5Pcreate(H5P_GROUP_CREATE), at + ": group properties");
  check_status(H5Pset_link_creation_order(gcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
               at + ": link creation order");
  Handle group = check(H5Gcreate2(file, table.name().c_str(), H5P_DEFAULT, gcpl.id(), H5P_DEFAULT),
                       at + ": cannot create group");
  const hsize_t dims = total;
  Handle space = check(H5Screate_simple(1, &dims, nullptr), at + ": dataspace");
  Handle dcpl = check(H5Pcreate(H5P_DATASET_CREATE), at + ": dataset properties");
  if (options.chunk_rows > 0 && total > 0) {
    const hsize_t chunk = std::min<hsize_t>(options.chunk_rows, total);
    check_status(H5Pset_chunk(dcpl.id(), 1, &chunk), at + ": chunking");
    if (options.deflate_level > 0) {
      check_status(H5Pset_deflate(dcpl.id(), static_cast<unsigned>(std::min(options.deflate_level, 9))),
                   at + ": deflate");
    }
  }
  // Every numeric row is always written, so no fill pass for numbers. (HDF5 refuses
  // "never fill" for variable-length types: string datasets keep the default.)
  Handle numeric_dcpl = check(H5Pcopy(dcpl.id()), at + ": dataset properties");
  check_status(H5Pset_fill_time(numeric_dcpl.id(), H5D_FILL_TIME_NEVER), at + ": fill time");
  datasets.clear();
  Handle strings = string_type(at);
  for (const auto& spec : table.specs()) {
    const bool str = spec.type == DType::str;
    datasets.push_back(check(H5Dcreate2(group.id(), spec.name.c_str(), str ? strings.id() : detail::file_type(spec.type),
                                        space.id(), H5P_DEFAULT, str ? dcpl.id() : numeric_dcpl.id(), H5P_DEFAULT),
                             at + ": cannot create dataset for column '" + spec.name + "'"));
  }
  std::vector<std::string> names;
  for (const auto& spec : table.specs()) names.push_back(spec.name);
  strings_attribute(group.id(), "columns", names, at);
  scalar_attribute(group.id(), "rows", static_cast<std::uint64_t>(total), H5T_STD_U64LE, H5T_NATIVE_UINT64, at);
  return group;
}

void write_slab(hid_t dataset, hid_t mem_type, std::uint64_t first, std::uint64_t count, const void* buffer,
                hid_t dxpl, const std::string& what) {
  Handle fspace = check(H5Dget_space(dataset), what + ": dataspace");
  const hsize_t start = first;
  const hsize_t n = std::max<hsize_t>(count, 1);
  Handle mspace = check(H5Screate_simple(1, &n, nullptr), what + ": memory dataspace");
  if (count == 0) {
    check_status(H5Sselect_none(fspace.id()), what + ": empty selection");
    check_status(H5Sselect_none(mspace.id()), what + ": empty selection");
  } else {
    const hsize_t c = count;
    check_status(H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, &start, nullptr, &c, nullptr),
                 what + ": select rows " + std::to_string(first) + ".." + std::to_string(first + count));
  }
  static const char dummy = 0;
  check_status(H5Dwrite(dataset, mem_type, mspace.id(), fspace.id(), dxpl, buffer != nullptr ? buffer : &dummy),
               what + ": write rows " + std::to_string(first) + ".." + std::to_string(first + count));
}

void write_column_rows(hid_t dataset, const ColumnData& column, std::size_t begin, std::uint64_t count,
                       std::uint64_t first, const std::string& what) {
  std::visit(
      [&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          std::vector<const char*> ptrs(count);
          for (std::uint64_t i = 0; i < count; ++i) ptrs[i] = v[begin + i].c_str();
          Handle type = string_type(what);
          write_slab(dataset, type.id(), first, count, ptrs.data(), H5P_DEFAULT, what);
        } else {
          write_slab(dataset, native_type(dtype_of<T>()), first, count, v.data() + begin, H5P_DEFAULT, what);
        }
      },
      column);
}

}  // namespace pearl::io::detail
