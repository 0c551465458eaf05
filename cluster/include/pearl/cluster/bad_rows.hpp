// pearl/cluster/bad_rows.hpp — the runner's side of `--on-bad-row skip`: every rank's
// rejected values gathered into one report, the `rejects` output table, the log lines.
//
//   const auto report = pearl::cluster::gather_bad_rows(comm, inputs.rejects());
//   pearl::cluster::log_bad_rows(report, comm.rank(), std::cerr);
//   ctx.outputs().push_back(pearl::cluster::rejects_table(report, comm.rank()));
//   info.rejected_rows = report.rows;
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/communicator.hpp"
#include "pearl/core/table.hpp"
#include "pearl/io/row_checks.hpp"

namespace pearl::cluster {

/// The name of the output table holding the rejected values.
inline constexpr const char* kRejectsTable = "rejects";

struct BadRowReport {
  /// Every rank's rejects, sorted by input, file, row and column: the same on every
  /// rank and for any number of ranks.
  std::vector<io::Reject> rejects;
  /// Input rows set aside (a row with two bad values counts once).
  std::int64_t rows = 0;
  /// Rejected values per "input.column: reason", e.g. "cases.age_years: is not in 0..120".
  std::vector<std::pair<std::string, std::int64_t>> by_reason;
};

/// Collective: every rank's log, gathered on every rank.
BadRowReport gather_bad_rows(Communicator& comm, const io::RejectLog& log);

/// The `rejects` table (file string, row uint64, column string, value string, reason
/// string): rank 0's part holds every row, the other ranks' parts are empty, so the
/// table reads in sorted order whatever the number of ranks.
OutputTable rejects_table(const BadRowReport& report, int rank);

/// On rank 0, one line per reason with its count (nothing when no row was rejected).
void log_bad_rows(const BadRowReport& report, int rank, std::ostream& err);

}  // namespace pearl::cluster
