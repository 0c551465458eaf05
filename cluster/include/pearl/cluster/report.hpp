// pearl/cluster/report.hpp — `pearl report OUT.h5 [-o report.html]`: one self-contained
// HTML page of a job's output, with its charts drawn as inline SVG by pearl (no script,
// no network), and, when OUT.metrics.json lies beside the output, the run itself: a
// timeline of the stages per rank, bytes shuffled and peak memory per rank.
//
//   pearl report incidence.h5                 writes incidence.report.html
//   pearl report incidence.h5 -o /www/today.html
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace pearl::cluster {

/// The `pearl report` command (rank 0's part): `args` are what follows "report".
void report_command(const std::vector<std::string>& args, std::ostream& out);

/// The page for `output` (and its metrics file, if any), as HTML text.
std::string render_report(const std::filesystem::path& output);

}  // namespace pearl::cluster
