// Descriptions of layouts, filters and storage for messages and `pearl inspect`.
#include "pearl/io/table_info.hpp"

namespace pearl::io {

std::string_view layout_name(Layout l) noexcept {
  return l == Layout::columnar ? "columnar group" : "compound dataset";
}

std::string Filter::describe() const {
  std::string s;
  switch (id) {
    case 1:
      s = "gzip";
      if (!params.empty()) s.append(" ").append(std::to_string(params[0]));
      break;
    case 2: s = "shuffle"; break;
    case 3: s = "fletcher32"; break;
    case 4: s = "szip"; break;
    case 5: s = "nbit"; break;
    case 6: s = "scaleoffset"; break;
    default:
      s = "filter " + std::to_string(id);
      if (!name.empty()) s += " (" + name + ")";
      break;
  }
  if (!available) s += " [not available in this HDF5]";
  return s;
}

std::string StorageInfo::describe() const {
  std::string s = chunk_rows == 0 ? std::string("contiguous") : "chunked " + std::to_string(chunk_rows) + " rows";
  for (const auto& f : filters) s += ", " + f.describe();
  return s;
}

const ColumnInfo* TableInfo::find(std::string_view name) const noexcept {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string TableInfo::where() const { return file.string() + ": table " + path; }

}  // namespace pearl::io
