#include "frame.hpp"

#include <cstdio>
#include <type_traits>
#include <variant>

#include "pearl/cluster/shard_inputs.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/table_reader.hpp"

namespace pearl::cluster::report {

std::string Column::cell(std::size_t i) const {
  if (text) return str[i];
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", num[i]);
  return buf;
}

const Column* Frame::find(const std::string& column) const {
  for (const auto& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

Frame read_frame(const std::filesystem::path& file, const std::string& table, std::uint64_t max_rows) {
  io::TableReader reader(file, "/" + table);
  std::vector<ColumnSpec> specs;
  for (const auto& c : reader.info().columns) specs.push_back({c.name, natural_type(c.stored)});
  Frame f;
  f.name = table;
  f.rows = reader.rows();
  f.read = std::min(f.rows, max_rows);
  const auto data = reader.read(specs, 0, f.read);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    Column c;
    c.name = specs[i].name;
    std::visit(
        [&](const auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if constexpr (std::is_same_v<T, std::string>) {
            c.text = true;
            c.str = v;
          } else {
            c.num.assign(v.begin(), v.end());
          }
        },
        data[i]);
    f.columns.push_back(std::move(c));
  }
  return f;
}

namespace {
/// Root attribute `name` as strings (a scalar string or an array of them).
std::vector<std::string> string_attribute(const std::filesystem::path& file, const std::string& name) {
  io::File f = io::File::open_read(file);
  if (H5Aexists(f.id(), name.c_str()) <= 0) return {};
  io::Handle attr = io::check(H5Aopen(f.id(), name.c_str(), H5P_DEFAULT), file.string() + ": attribute " + name);
  io::Handle space = io::check(H5Aget_space(attr.id()), file.string() + ": attribute " + name);
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  io::Handle type = io::check(H5Tcopy(H5T_C_S1), "string type");
  H5Tset_size(type.id(), H5T_VARIABLE);
  H5Tset_cset(type.id(), H5T_CSET_UTF8);
  std::vector<char*> raw(static_cast<std::size_t>(std::max<hssize_t>(n, 1)), nullptr);
  if (H5Aread(attr.id(), type.id(), raw.data()) < 0) io::fail(file.string() + ": read attribute " + name);
  std::vector<std::string> out;
  out.reserve(raw.size());
  for (char* s : raw) out.emplace_back(s != nullptr ? s : "");
  H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, raw.data());
  return out;
}
}  // namespace

std::vector<std::string> output_tables(const std::filesystem::path& file) { return string_attribute(file, "tables"); }

std::string root_attribute(const std::filesystem::path& file, const std::string& name) {
  const auto v = string_attribute(file, name);
  return v.empty() ? std::string() : v.front();
}

}  // namespace pearl::cluster::report
