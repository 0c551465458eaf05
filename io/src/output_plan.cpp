// The output writer's first collective step: every rank checks its own part (names,
// equal column lengths, strings free of NUL bytes and valid UTF-8), the ranks agree on
// one schema, and every rank learns every rank's row counts (the Plan).
#include <set>
#include <string_view>

#include "output_writer_detail.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/spilled_rows.hpp"
#include "pearl/core/value_text.hpp"

namespace pearl::io::detail {

namespace {

bool valid_name(const std::string& n) { return !n.empty() && n != "." && n.find('/') == std::string::npos; }

/// Rows of `window` (the part's rows from `first` on) hold no NUL byte and valid UTF-8.
void check_strings(const OutputTable& window, std::uint64_t first, const std::string& at, const std::string& part) {
  for (std::size_t c = 0; c < window.specs().size(); ++c) {
    if (window.specs()[c].type != DType::str) continue;
    const std::string col = at + "table '" + window.name() + "': column '" + window.specs()[c].name + "': ";
    const auto& v = std::get<std::vector<std::string>>(window.data(c));
    for (std::size_t r = 0; r < v.size(); ++r) {
      const std::string row = "row " + std::to_string(first + r);
      if (v[r].find('\0') != std::string::npos) {
        throw Error(col + row + part + " holds a NUL byte (HDF5 strings cannot): " + quote_value(v[r]));
      }
      if (const std::size_t bad = invalid_utf8_at(v[r]); bad != std::string_view::npos) {
        throw Error(col + row + part + " is not valid UTF-8 (byte " + std::to_string(bad) + "): " + quote_value(v[r]));
      }
    }
  }
}

void check_local(const std::vector<OutputTable>& parts, const std::string& what, int rank) {
  // The rank is named with the row (a job's own strings; input strings are checked when
  // read, naming file and row): the runner's report adds "rank N:" before the message.
  const std::string part = " of rank " + std::to_string(rank) + "'s part";
  const std::string at = what + ": ";
  std::set<std::string> tables;
  for (const auto& t : parts) {
    if (!valid_name(t.name())) throw Error(at + "output table name '" + t.name() + "' is empty or holds '/'");
    if (!tables.insert(t.name()).second) throw Error(at + "output table '" + t.name() + "' is given twice");
    std::set<std::string> cols;
    const std::size_t rows = t.rows();
    for (std::size_t c = 0; c < t.specs().size(); ++c) {
      const auto& spec = t.specs()[c];
      const std::string col = at + "table '" + t.name() + "': column '" + spec.name + "': ";
      if (!valid_name(spec.name)) throw Error(col + "name is empty or holds '/'");
      if (!cols.insert(spec.name).second) throw Error(col + "declared twice");
      if (column_size(t.data(c)) != rows) {
        throw Error(col + "has " + std::to_string(column_size(t.data(c))) + " rows, column '" + t.specs()[0].name +
                    "' has " + std::to_string(rows));
      }
    }
    PartWindows windows(t);
    std::uint64_t first = 0;
    for (std::size_t w = 0; w < windows.count(); ++w) {
      check_strings(windows.load(w), first, at, part);
      first += windows.rows(w);
    }
  }
}

std::string schema_of(const std::vector<OutputTable>& parts) {
  std::string s;
  for (const auto& t : parts) {
    if (!s.empty()) s += "; ";
    s += t.name() + "(";
    for (std::size_t c = 0; c < t.specs().size(); ++c) {
      if (c > 0) s += ", ";
      s += t.specs()[c].name + " " + std::string(dtype_name(t.specs()[c].type));
    }
    s += ")";
  }
  return s.empty() ? std::string("no tables") : s;
}

}  // namespace

Plan make_plan(Communicator& comm, const std::vector<OutputTable>& parts, const std::string& what) {
  agreed(comm, [&] { check_local(parts, what, comm.rank()); });

  // Same tables and columns everywhere: rank 0's schema against each rank's own.
  const std::string mine = schema_of(parts);
  std::vector<std::byte> reference(reinterpret_cast<const std::byte*>(mine.data()),
                                   reinterpret_cast<const std::byte*>(mine.data() + mine.size()));
  comm.broadcast(reference, 0);
  agreed(comm, [&] {
    const std::string ref(reinterpret_cast<const char*>(reference.data()), reference.size());
    if (ref != mine) {
      throw Error(what + ": ranks disagree on the output tables: rank " + std::to_string(comm.rank()) + " has " + mine +
                  ", rank 0 has " + ref);
    }
  });

  // Per table: its windows' count, then their rows.
  std::vector<std::uint64_t> counts;
  for (const auto& t : parts) {
    const PartWindows windows(t);
    counts.push_back(windows.count());
    for (std::size_t w = 0; w < windows.count(); ++w) counts.push_back(windows.rows(w));
  }
  std::vector<std::vector<std::byte>> all;
  comm.allgather(as_bytes_of(counts), all);
  Plan plan;
  const auto ranks = static_cast<std::size_t>(comm.size());
  plan.rows.assign(parts.size(), std::vector<std::uint64_t>(ranks));
  plan.windows.assign(parts.size(), std::vector<std::vector<std::uint64_t>>(ranks));
  plan.total.assign(parts.size(), 0);
  for (std::size_t r = 0; r < all.size(); ++r) {
    const auto theirs = to_u64s(all[r]);
    std::size_t at = 0;
    for (std::size_t t = 0; t < parts.size(); ++t) {
      const std::uint64_t n = theirs.at(at++);
      for (std::uint64_t w = 0; w < n; ++w) {
        const std::uint64_t rows = theirs.at(at++);
        plan.windows[t][r].push_back(rows);
        plan.rows[t][r] += rows;
      }
      plan.total[t] += plan.rows[t][r];
    }
  }
  return plan;
}

std::size_t PartWindows::count() const noexcept {
  return (part_.spilled() != nullptr ? part_.spilled()->rounds() : 0) + 1;
}

std::uint64_t PartWindows::rows(std::size_t window) const {
  return window + 1 == count() ? part_.rows() : part_.spilled()->rows(window);
}

const OutputTable& PartWindows::load(std::size_t window) {
  if (window + 1 == count()) return part_;
  if (!round_) round_.emplace(part_.name(), part_.specs());
  if (loaded_ != window) part_.spilled()->read(window, *round_);
  loaded_ = window;
  return *round_;
}

}  // namespace pearl::io::detail
