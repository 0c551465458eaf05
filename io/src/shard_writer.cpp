// Input-style shards with serial HDF5: columnar groups or compound datasets, stored widths,
// fixed or variable strings, chunking + shuffle + gzip, atomic replacement.
#include "pearl/io/shard_writer.hpp"

#include <hdf5.h>

#include <cstring>
#include <set>
#include <string>
#include <type_traits>
#include <utility>

#include "pearl/io/atomic_output.hpp"
#include "pearl/io/hdf5.hpp"

#include "hdf5_types.hpp"
#include "output_writer_detail.hpp"

namespace pearl::io {
namespace {

constexpr hsize_t kDefaultGzipChunk = 65536;

/// One column as it will be stored: its stored type and, for strings, fixed bytes (0 = vlen).
struct ColumnPlan {
  std::string name;
  DType type;    // the OutputTable type
  DType stored;  // the type in the file
  std::size_t fixed = 0;
};

std::vector<ColumnPlan> plan_columns(const OutputTable& t, const ShardOptions& o, const std::string& what) {
  std::vector<ColumnPlan> plan;
  std::set<std::string> seen;
  for (const auto& spec : t.specs()) {
    const std::string col = what + ": column '" + spec.name + "'";
    if (spec.name.empty() || spec.name.find('/') != std::string::npos) throw Error(col + ": name is empty or holds '/'");
    if (!seen.insert(spec.name).second) throw Error(col + ": declared twice");
    ColumnPlan p{spec.name, spec.type, spec.type, 0};
    if (const auto it = o.stored_types.find(spec.name); it != o.stored_types.end()) p.stored = it->second;
    if ((p.type == DType::str) != (p.stored == DType::str)) {
      throw Error(col + ": cannot store a " + std::string(dtype_name(p.type)) + " column as " +
                  std::string(dtype_name(p.stored)));
    }
    if (dtype_is_float(p.type) && !dtype_is_float(p.stored)) {
      throw Error(col + ": cannot store a float column as " + std::string(dtype_name(p.stored)));
    }
    if (p.type == DType::str) p.fixed = o.fixed_string_bytes;
    plan.push_back(std::move(p));
  }
  for (const auto& [name, type] : o.stored_types) {
    (void)type;
    if (!seen.contains(name)) throw Error(what + ": stored_types names column '" + name + "', which the table lacks");
  }
  return plan;
}

/// Converts column `c` to its stored type into `out` (rows × stored width bytes, packed
/// with `stride` bytes between rows at byte `offset`). Throws on a value that does not fit.
void convert_into(const ColumnData& data, const ColumnPlan& p, std::byte* out, std::size_t stride, std::size_t offset,
                  std::uint64_t first, const std::string& what) {
  std::visit(
      [&]<class T>(const std::vector<T>& v) {
        if constexpr (!std::is_same_v<T, std::string>) {
          detail::with_numeric(p.stored, [&]<class S>(std::type_identity<S>) {
            for (std::size_t r = 0; r < v.size(); ++r) {
              if (!detail::fits<S>(v[r])) {
                throw Error(what + ": column '" + p.name + "': row " + std::to_string(first + r) + " value " +
                            std::to_string(v[r]) + " does not fit the stored type " +
                            std::string(dtype_name(p.stored)));
              }
              const S s = static_cast<S>(v[r]);
              std::memcpy(out + r * stride + offset, &s, sizeof s);
            }
          });
        }
      },
      data);
}

/// Fills string column values into `out`: fixed bytes (null-padded) or char* (vlen).
void strings_into(const std::vector<std::string>& v, const ColumnPlan& p, std::byte* out, std::size_t stride,
                  std::size_t offset, std::uint64_t first, const std::string& what) {
  for (std::size_t r = 0; r < v.size(); ++r) {
    std::byte* at = out + r * stride + offset;
    if (v[r].find('\0') != std::string::npos) {
      throw Error(what + ": column '" + p.name + "': row " + std::to_string(first + r) + " holds a NUL byte");
    }
    if (p.fixed > 0) {
      if (v[r].size() > p.fixed) {
        throw Error(what + ": column '" + p.name + "': row " + std::to_string(first + r) + " value '" + v[r] + "' is " +
                    std::to_string(v[r].size()) + " bytes, longer than the fixed length " + std::to_string(p.fixed));
      }
      std::memcpy(at, v[r].data(), v[r].size());
    } else {
      const char* ptr = v[r].c_str();
      std::memcpy(at, &ptr, sizeof ptr);
    }
  }
}

/// Bytes of one value in the write buffer: the fixed string length, or a packed element.
std::size_t member_size(const ColumnPlan& p) {
  return p.stored == DType::str && p.fixed > 0 ? p.fixed : detail::element_size(p.stored);
}

/// Dataset creation properties: contiguous, or chunked (+ shuffle + gzip).
Handle creation_properties(hsize_t rows, const ShardOptions& o, const std::string& what) {
  Handle dcpl = check(H5Pcreate(H5P_DATASET_CREATE), what + ": dataset creation properties");
  if (rows == 0 || (o.chunk_rows == 0 && o.gzip_level <= 0)) return dcpl;
  hsize_t chunk = o.chunk_rows > 0 ? static_cast<hsize_t>(o.chunk_rows) : kDefaultGzipChunk;
  chunk = std::min(chunk, rows);
  check_status(H5Pset_chunk(dcpl.id(), 1, &chunk), what + ": chunking");
  if (o.gzip_level > 0) {
    if (o.gzip_level > 9) throw Error(what + ": gzip level " + std::to_string(o.gzip_level) + " is not in 1..9");
    check_status(H5Pset_shuffle(dcpl.id()), what + ": shuffle filter");
    check_status(H5Pset_deflate(dcpl.id(), static_cast<unsigned>(o.gzip_level)), what + ": gzip filter");
  }
  return dcpl;
}

Handle create_dataset(hid_t parent, const std::string& name, hid_t type, hsize_t rows, const ShardOptions& o,
                      const std::string& what) {
  Handle space = check(H5Screate_simple(1, &rows, nullptr), what + ": dataspace");
  Handle dcpl = creation_properties(rows, o, what);
  return check(H5Dcreate2(parent, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
               what + ": create dataset");
}

/// Writes `buf` (rows [first, first + count) of the dataset, memory type `mtype`).
void write_rows(hid_t ds, hid_t mtype, hsize_t first, hsize_t count, const std::byte* buf, const std::string& what) {
  if (count == 0) return;
  Handle file_space = check(H5Dget_space(ds), what + ": dataspace");
  check_status(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, &first, nullptr, &count, nullptr),
               what + ": select rows");
  Handle mem_space = check(H5Screate_simple(1, &count, nullptr), what + ": memory dataspace");
  check_status(H5Dwrite(ds, mtype, mem_space.id(), file_space.id(), H5P_DEFAULT, buf), what + ": write");
}

/// Packs column `c` of `rows` (its rows from `first` on) into `buf` at `offset`, `stride` apart.
void pack_column(const OutputTable& rows, std::size_t c, const ColumnPlan& p, std::vector<std::byte>& buf,
                 std::size_t stride, std::size_t offset, std::uint64_t first, const std::string& what) {
  if (p.stored == DType::str) {
    strings_into(std::get<std::vector<std::string>>(rows.data(c)), p, buf.data(), stride, offset, first, what);
  } else {
    convert_into(rows.data(c), p, buf.data(), stride, offset, first, what);
  }
}

// Both layouts write a table window by window (a table that spilled to scratch has
// several: pearl/core/spilled_rows.hpp), so the write buffer holds one window's rows.
void write_columnar(hid_t file, const OutputTable& t, const std::vector<ColumnPlan>& plan, const ShardOptions& o,
                    const std::string& what) {
  Handle gcpl = check(H5Pcreate(H5P_GROUP_CREATE), what + ": group creation properties");
  check_status(H5Pset_link_creation_order(gcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
               what + ": link creation order");
  Handle group = check(H5Gcreate2(file, t.name().c_str(), H5P_DEFAULT, gcpl.id(), H5P_DEFAULT), what + ": create group");
  const auto rows = static_cast<hsize_t>(t.total_rows());
  std::vector<Handle> datasets;
  std::vector<hid_t> mtypes;
  std::vector<Handle> str_types;
  for (const ColumnPlan& p : plan) {
    const std::string at = what + ": column '" + p.name + "'";
    hid_t ftype = H5I_INVALID_HID;
    hid_t mtype = H5I_INVALID_HID;
    if (p.stored == DType::str) {
      str_types.push_back(detail::string_type(at, p.fixed));
      ftype = mtype = str_types.back().id();
    } else {
      ftype = detail::file_type(p.stored);
      mtype = detail::native_type(p.stored);
    }
    datasets.push_back(create_dataset(group.id(), p.name, ftype, rows, o, at));
    mtypes.push_back(mtype);
  }
  detail::PartWindows windows(t);
  std::uint64_t first = 0;
  std::vector<std::byte> buf;
  for (std::size_t w = 0; w < windows.count(); ++w) {
    const OutputTable& part = windows.load(w);
    for (std::size_t c = 0; c < plan.size(); ++c) {
      const std::size_t width = member_size(plan[c]);
      buf.assign(part.rows() * width, std::byte{0});
      pack_column(part, c, plan[c], buf, width, 0, first, what);
      write_rows(datasets[c].id(), mtypes[c], first, part.rows(), buf.data(), what + ": column '" + plan[c].name + "'");
    }
    first += part.rows();
  }
}

void write_compound(hid_t file, const OutputTable& t, const std::vector<ColumnPlan>& plan, const ShardOptions& o,
                    const std::string& what) {
  std::size_t row_bytes = 0;
  std::vector<std::size_t> offsets;
  for (const auto& p : plan) {
    offsets.push_back(row_bytes);
    row_bytes += member_size(p);
  }
  if (row_bytes == 0) throw Error(what + ": a compound dataset needs at least one column");
  Handle mtype = check(H5Tcreate(H5T_COMPOUND, row_bytes), what + ": compound memory type");
  Handle ftype = check(H5Tcreate(H5T_COMPOUND, row_bytes), what + ": compound file type");
  std::vector<Handle> strings;
  for (std::size_t c = 0; c < plan.size(); ++c) {
    const ColumnPlan& p = plan[c];
    hid_t m = H5I_INVALID_HID;
    hid_t f = H5I_INVALID_HID;
    if (p.stored == DType::str) {
      strings.push_back(detail::string_type(what + ": column '" + p.name + "'", p.fixed));
      m = f = strings.back().id();
    } else {
      m = detail::native_type(p.stored);
      f = detail::file_type(p.stored);
    }
    check_status(H5Tinsert(mtype.id(), p.name.c_str(), offsets[c], m), what + ": member " + p.name);
    check_status(H5Tinsert(ftype.id(), p.name.c_str(), offsets[c], f), what + ": member " + p.name);
  }
  const auto rows = static_cast<hsize_t>(t.total_rows());
  Handle ds = create_dataset(file, t.name(), ftype.id(), rows, o, what);
  detail::PartWindows windows(t);
  std::uint64_t first = 0;
  std::vector<std::byte> buf;
  for (std::size_t w = 0; w < windows.count(); ++w) {
    const OutputTable& part = windows.load(w);
    buf.assign(part.rows() * row_bytes, std::byte{0});
    for (std::size_t c = 0; c < plan.size(); ++c) pack_column(part, c, plan[c], buf, row_bytes, offsets[c], first, what);
    write_rows(ds.id(), mtype.id(), first, part.rows(), buf.data(), what);
    first += part.rows();
  }
}

void write_table(hid_t file, const OutputTable& t, const ShardOptions& o, const std::string& what) {
  if (t.name().empty() || t.name().find('/') != std::string::npos) throw Error(what + ": name is empty or holds '/'");
  const auto plan = plan_columns(t, o, what);
  for (std::size_t c = 0; c < plan.size(); ++c) {
    if (column_size(t.data(c)) != t.rows()) {
      throw Error(what + ": column '" + plan[c].name + "' has " + std::to_string(column_size(t.data(c))) +
                  " rows, column '" + plan[0].name + "' has " + std::to_string(t.rows()));
    }
  }
  if (o.layout == ShardLayout::compound) {
    write_compound(file, t, plan, o, what);
  } else {
    write_columnar(file, t, plan, o, what);
  }
}

}  // namespace

void ShardFileWriter::write(const std::filesystem::path& file, const std::vector<OutputTable>& tables,
                            const ShardOptions& options) {
  AtomicOutput out(file);
  {
    const std::string temp = out.temp_path().string();
    Handle fcpl = check(H5Pcreate(H5P_FILE_CREATE), file.string() + ": file creation properties");
    check_status(H5Pset_link_creation_order(fcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
                 file.string() + ": link creation order");
    Handle f = check(H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, fcpl.id(), H5P_DEFAULT),
                     file.string() + ": cannot create HDF5 file (temporary " + temp + ")");
    std::set<std::string> names;
    for (const auto& t : tables) {
      const std::string what = file.string() + ": table /" + t.name();
      if (!names.insert(t.name()).second) throw Error(what + ": given twice");
      write_table(f.id(), t, options, what);
    }
    check_status(H5Fflush(f.id(), H5F_SCOPE_LOCAL), file.string() + ": flush");
    const hid_t id = f.release();
    check_status(H5Fclose(id), file.string() + ": close");
  }
  out.commit();
}

}  // namespace pearl::io
