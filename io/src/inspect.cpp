// `pearl inspect`: walking a file for tables, comparing them with the contract, printing.
#include "pearl/io/inspect.hpp"

#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <variant>

#include "h5util.hpp"
#include "pearl/io/table_reader.hpp"

namespace pearl::io {

namespace {

constexpr int kMaxDepth = 32;

struct Link {
  std::string name;
  bool hard;
};

herr_t collect_link(hid_t /*group*/, const char* name, const H5L_info_t* info, void* out) {
  static_cast<std::vector<Link>*>(out)->push_back({name, info->type == H5L_TYPE_HARD});
  return 0;
}

std::string join(const std::string& group, const std::string& name) {
  return group == "/" ? "/" + name : group + "/" + name;
}

/// The longest value of string column `name` in bytes, read a block of rows at a time;
/// -1 if the values cannot be read (the reader's checks name the problem when a job reads).
std::int64_t longest_string(TableReader& reader, const std::string& name) {
  // Blocks of at most 65536 rows and about 16 MiB of fixed-length values.
  const std::size_t width = std::max<std::size_t>(1, reader.info().find(name)->stored.size);
  const std::uint64_t block = std::clamp<std::uint64_t>((std::size_t{16} << 20) / width, 1, 1 << 16);
  const std::vector<ColumnSpec> projection = {{name, DType::str}};
  std::int64_t longest = 0;
  try {
    std::vector<ColumnData> data;
    for (std::uint64_t begin = 0; begin < reader.rows(); begin += block) {
      reader.read_into(projection, begin, std::min(reader.rows(), begin + block), data);
      for (const auto& v : std::get<std::vector<std::string>>(data.front())) {
        longest = std::max(longest, static_cast<std::int64_t>(v.size()));
      }
    }
  } catch (const InputError&) {
    return -1;
  }
  return longest;
}

void add_candidate(const std::shared_ptr<const File>& file, const std::string& path, std::vector<FoundTable>& out) {
  FoundTable t;
  t.path = path;
  try {
    TableReader reader(file, path);
    t.info = reader.info();
    for (const auto& c : t.info->columns) {
      t.longest.push_back(c.stored.cls == TypeClass::string ? longest_string(reader, c.name) : -1);
    }
  } catch (const InputError& e) {
    t.problem = e.what();
  }
  out.push_back(std::move(t));
}

void walk(const std::shared_ptr<const File>& file, const std::string& path, int depth, std::vector<FoundTable>& out) {
  const std::string what = file->path().string() + ": " + path;
  const Handle group = check(H5Gopen2(file->id(), path.c_str(), H5P_DEFAULT), what + ": cannot open group", true);
  std::vector<Link> links;
  hsize_t idx = 0;
  check_status(H5Literate(group.id(), H5_INDEX_NAME, H5_ITER_INC, &idx, collect_link, &links),
               what + ": cannot list the group's members", true);

  // pandas writes a group per key; its internals (index tables, blocks) are not tables.
  const bool pandas = H5Aexists(group.id(), "pandas_type") > 0;
  H5Eclear2(H5E_DEFAULT);
  bool has_column = false;
  bool has_table_child = false;
  std::vector<std::string> compound_children;
  std::vector<std::string> subgroups;
  for (const auto& link : links) {
    if (!link.hard) continue;  // soft and external links may loop or leave the file
    Handle obj(H5Oopen(group.id(), link.name.c_str(), H5P_DEFAULT));
    if (!obj.valid()) {
      H5Eclear2(H5E_DEFAULT);
      continue;
    }
    const H5I_type_t kind = H5Iget_type(obj.id());
    if (kind == H5I_GROUP) {
      subgroups.push_back(link.name);
    } else if (kind == H5I_DATASET) {
      const std::vector<hsize_t> dims = detail::dims_of(obj.id(), what + "/" + link.name);
      if (dims.size() != 1) continue;
      const Handle type = check(H5Dget_type(obj.id()), what + "/" + link.name + ": cannot read the type", true);
      if (H5Tget_class(type.id()) == H5T_COMPOUND) {
        if (link.name == "table") has_table_child = true;
        compound_children.push_back(link.name);
      } else {
        has_column = true;
      }
    }
  }
  if (pandas || has_table_child) {
    add_candidate(file, path, out);  // the reader finds /<key>/table or explains the refusal
    return;
  }
  if (has_column) add_candidate(file, path, out);
  for (const auto& name : compound_children) add_candidate(file, join(path, name), out);
  if (depth < kMaxDepth) {
    for (const auto& name : subgroups) walk(file, join(path, name), depth + 1, out);
  }
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

void print_table(const FoundTable& t, std::ostream& out) {
  if (!t.info) {
    out << "  " << t.path << ": not readable: " << t.problem << '\n';
    return;
  }
  const TableInfo& info = *t.info;
  const ContractMatch m = match_contract(info);
  out << "  " << info.path;
  if (info.object != info.path) out << " (at " << info.object << ')';
  out << ": " << layout_name(info.layout) << ", " << info.rows << " rows; " << m.summary << '\n';
  std::size_t name_w = 6;
  std::size_t type_w = 6;
  for (const auto& c : info.columns) {
    name_w = std::max(name_w, c.name.size() + 2);
    type_w = std::max(type_w, c.stored.name().size() + 2);
  }
  out << "    " << pad("column", name_w) << pad("stored", type_w) << pad("contract", 10) << pad("conversion", 12)
      << pad("longest", 10) << "storage\n";
  for (std::size_t i = 0; i < info.columns.size(); ++i) {
    const ColumnInfo& c = info.columns[i];
    const std::int64_t longest = i < t.longest.size() ? t.longest[i] : -1;
    const bool text = c.stored.cls == TypeClass::string;
    const std::string longest_text = !text ? "-" : longest < 0 ? "?" : std::to_string(longest) + " B";
    std::string contract = "-";
    std::string conv = "-";
    if (m.contract != nullptr) {
      for (const auto& spec : m.contract->columns) {
        if (spec.name == c.name) {
          contract = std::string(dtype_name(spec.type));
          conv = std::string(conversion_name(conversion(c.stored, spec.type)));
        }
      }
    }
    out << "    " << pad(c.name, name_w) << pad(c.stored.name(), type_w) << pad(contract, 10) << pad(conv, 12)
        << pad(longest_text, 10) << c.storage.describe() << '\n';
  }
}

std::vector<std::string> column_problems(const TableInfo& table, const ContractTable& contract) {
  std::vector<std::string> problems;
  for (const auto& spec : contract.columns) {
    const ColumnInfo* c = table.find(spec.name);
    if (c == nullptr) {
      problems.push_back("no column '" + spec.name + "'");
    } else if (conversion(c->stored, spec.type) == Conversion::none) {
      problems.push_back("column '" + spec.name + "' is " + c->stored.name() + ", not convertible to " +
                         std::string(dtype_name(spec.type)) + ": " + why_not_convertible(c->stored, spec.type));
    }
  }
  return problems;
}

}  // namespace

std::vector<FoundTable> find_tables(const std::shared_ptr<const File>& file) {
  std::vector<FoundTable> out;
  walk(file, "/", 0, out);
  std::sort(out.begin(), out.end(), [](const FoundTable& a, const FoundTable& b) { return a.path < b.path; });
  return out;
}

ContractMatch match_contract(const TableInfo& table) {
  ContractMatch m;
  const std::string name = table.path.substr(table.path.rfind('/') + 1);
  m.contract = find_contract_table(name);
  if (m.contract != nullptr) {
    m.problems = column_problems(table, *m.contract);
    m.matches = m.problems.empty();
    if (m.matches) {
      m.summary = "matches contract table '" + name + "'";
    } else {
      m.summary = "does not match contract table '" + name + "': ";
      for (std::size_t i = 0; i < m.problems.size(); ++i) m.summary += (i > 0 ? "; " : "") + m.problems[i];
    }
    return m;
  }
  for (const auto& c : contract_tables()) {
    if (column_problems(table, c).empty()) m.fits.push_back(c.name);
  }
  m.summary = "no contract table '" + name + "'";
  if (m.fits.empty()) {
    m.summary += " (its columns fit none)";
  } else {
    m.summary += "; its columns fit:";
    for (const auto& f : m.fits) m.summary += " " + f;
  }
  return m;
}

void inspect(const std::vector<std::filesystem::path>& files, std::ostream& out) {
  std::vector<std::string> bad;
  for (const auto& path : files) {
    std::vector<FoundTable> tables;
    try {
      const auto file = std::make_shared<const File>(File::open_read(path));
      tables = find_tables(file);
    } catch (const InputError& e) {
      bad.emplace_back(e.what());
      continue;
    }
    out << path.string() << '\n';
    if (tables.empty()) out << "  no tables (no 1-D datasets or compound datasets)\n";
    for (const auto& t : tables) print_table(t, out);
  }
  if (!bad.empty()) {
    std::string message = bad.size() == 1 ? bad.front() : std::to_string(bad.size()) + " files cannot be read: ";
    if (bad.size() > 1) {
      for (std::size_t i = 0; i < bad.size(); ++i) message += (i > 0 ? "; " : "") + bad[i];
    }
    throw InputError(message);
  }
}

}  // namespace pearl::io
