// pandas' layouts that pearl refuses, and the sentence that says how to rewrite them.
#include "pandas_layouts.hpp"

#include <algorithm>
#include <string_view>

#include "pearl/core/error.hpp"

namespace pearl::io::detail {

namespace {

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

}  // namespace

void refuse_pandas_fixed(hid_t group, const std::vector<std::string>& names, const TableInfo& info) {
  if (H5Aexists(group, "pandas_type") > 0 || std::find(names.begin(), names.end(), "block0_values") != names.end()) {
    throw InputError(info.where() + ": written by pandas in its default 'fixed' format, which packs columns into "
                     "blockN_values arrays; " + pandas_hint(info, last_component(info.path)));
  }
  H5Eclear2(H5E_DEFAULT);
}

void refuse_values_block(const std::string& member, const TableInfo& info, const std::string& object) {
  if (!is_values_block(member)) return;
  // pandas' key is the table's path, or the group above "/<key>/table".
  const std::string key = object.size() > 6 && object.ends_with("/table")
                              ? last_component(object.substr(0, object.size() - 6))
                              : last_component(info.path);
  throw InputError(info.where() + ": written by pandas without data_columns=True: its columns are packed into "
                   "values_block_N members and their names exist only in pickled Python attributes; " +
                   pandas_hint(info, key));
}

}  // namespace pearl::io::detail
