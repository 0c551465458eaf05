// Gathering the rejected values of --on-bad-row skip: serialise, allgather, merge.
#include "pearl/cluster/bad_rows.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <ostream>
#include <set>
#include <tuple>

namespace pearl::cluster {

namespace {

void put(std::vector<std::byte>& out, const std::string& s) {
  const std::uint64_t n = s.size();
  const auto* p = reinterpret_cast<const std::byte*>(&n);
  out.insert(out.end(), p, p + sizeof n);
  const auto* b = reinterpret_cast<const std::byte*>(s.data());
  out.insert(out.end(), b, b + s.size());
}

void put(std::vector<std::byte>& out, std::uint64_t v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

struct Reader {
  const std::vector<std::byte>& in;
  std::size_t at = 0;
  std::uint64_t number() {
    std::uint64_t v = 0;
    std::memcpy(&v, in.data() + at, sizeof v);
    at += sizeof v;
    return v;
  }
  std::string text() {
    const std::uint64_t n = number();
    std::string s(reinterpret_cast<const char*>(in.data()) + at, n);
    at += n;
    return s;
  }
};

}  // namespace

BadRowReport gather_bad_rows(Communicator& comm, const io::RejectLog& log) {
  std::vector<std::byte> mine;
  for (const auto& r : log.rows()) {
    put(mine, r.input);
    put(mine, r.file);
    put(mine, r.row);
    put(mine, r.column);
    put(mine, r.value);
    put(mine, r.reason);
  }
  std::vector<std::vector<std::byte>> all;
  comm.allgather(mine, all);
  std::set<io::Reject> merged;  // a row read by two ranks (never, today) would count once
  for (const auto& bytes : all) {
    Reader in{bytes};
    while (in.at < bytes.size()) {
      io::Reject r;
      r.input = in.text();
      r.file = in.text();
      r.row = in.number();
      r.column = in.text();
      r.value = in.text();
      r.reason = in.text();
      merged.insert(std::move(r));
    }
  }
  BadRowReport report;
  report.rejects.assign(merged.begin(), merged.end());
  std::set<std::tuple<std::string, std::string, std::uint64_t>> rows;
  std::map<std::string, std::int64_t> reasons;
  for (const auto& r : report.rejects) {
    rows.emplace(r.input, r.file, r.row);
    ++reasons[r.input + "." + r.column + ": " + r.reason];
  }
  report.rows = static_cast<std::int64_t>(rows.size());
  report.by_reason.assign(reasons.begin(), reasons.end());
  return report;
}

OutputTable rejects_table(const BadRowReport& report, int rank) {
  OutputTable t(kRejectsTable, {{"file", DType::str},
                                {"row", DType::u64},
                                {"column", DType::str},
                                {"value", DType::str},
                                {"reason", DType::str}});
  if (rank != 0) return t;
  for (const auto& r : report.rejects) t.append(r.file, r.row, r.column, r.value, r.reason);
  return t;
}

void log_bad_rows(const BadRowReport& report, int rank, std::ostream& err) {
  if (rank != 0 || report.rejects.empty()) return;
  err << "pearl: --on-bad-row skip: set aside " << report.rows << " input row" << (report.rows == 1 ? "" : "s")
      << " with values outside their domain:\n";
  for (const auto& [reason, n] : report.by_reason) err << "pearl:   " << reason << ": " << n << '\n';
}

}  // namespace pearl::cluster
