// The index page of a pipeline run: what `pearl pipeline status` prints, as one
// self-contained HTML page that links each task's log and the report of its output.
// The task states come from pipeline_status.cpp (task_states), so the page and the
// terminal never disagree; each finished task's report is the page `pearl report` makes.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <utility>

#include "../pipeline_run.hpp"
#include "page.hpp"
#include "pearl/cluster/report.hpp"
#include "pearl/core/error.hpp"
#include "svg_charts.hpp"

namespace fs = std::filesystem;

namespace pearl::cluster::pipeline {

namespace {

using report::escape;

const char* const kIndexCss =
    "td,th{text-align:left;vertical-align:top}td.state{font-weight:bold}"
    ".done{color:#1a7f37}.skipped{color:#57606a}.failed,.cancelled{color:#cf222e}"
    ".never-started{color:#9a6700}.pending,.running{color:#0969da}.error{font-family:monospace;color:#cf222e}"
    "table.tasks td{font-size:12px;overflow-wrap:anywhere}table.tasks td.time,table.tasks td.state,table.tasks td.step{white-space:nowrap}";

/// A path as the href of a link from `dir`: relative when it can be (the run directory
/// can be copied or served as a whole), with the characters a URL reserves escaped.
std::string href(const fs::path& target, const fs::path& dir) {
  std::error_code ec;
  fs::path rel = fs::proximate(fs::absolute(target), fs::absolute(dir), ec);
  if (ec) rel = fs::absolute(target);
  std::string out;
  for (const unsigned char c : rel.generic_string()) {
    if (std::isalnum(c) != 0 || std::string("/-._~@").find(static_cast<char>(c)) != std::string::npos) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return escape(out);
}

std::string link(const fs::path& target, const fs::path& dir, const std::string& text) {
  return "<a href=\"" + href(target, dir) + "\">" + escape(text) + "</a>";
}

/// "never started" -> "never-started": a state as a CSS class.
std::string css_class(std::string state) {
  for (char& c : state) c = c == ' ' ? '-' : c;
  return state;
}

/// The report of a finished task's output, written to `reports/NAME.html`; the cell of
/// the index that links it (or says why there is none).
std::string report_cell(const TaskRecord& r, const fs::path& reports, const std::string& name, const fs::path& dir) {
  if (r.output.empty()) return "-";
  std::error_code ec;
  if ((r.state != "done" && r.state != "skipped") || !fs::exists(r.output, ec)) {
    return escape(r.output);
  }
  try {
    const std::string html = render_report(r.output);
    fs::create_directories(reports);
    const fs::path page = reports / (name + ".html");
    std::ofstream file(page);
    file << html;
    if (!file) throw Error("cannot write " + page.string());
    return link(page, dir, "report") + " " + escape(r.output);
  } catch (const std::exception& e) {
    return escape(r.output) + "<br><span class=\"meta\">no report: " + escape(e.what()) + "</span>";
  }
}

}  // namespace

std::string write_index(const Pipeline& p, const std::string& run_dir, const std::string& page_arg) {
  const fs::path page = page_arg.empty() ? fs::path(run_dir) / "index.html" : fs::path(page_arg);
  const fs::path dir = page.has_parent_path() ? page.parent_path() : fs::path(".");
  const fs::path reports = dir / (page.stem().string() == "index" ? "reports" : page.stem().string() + "-reports");
  const auto rows = task_states(&p, run_dir);
  const RunDir run(run_dir);
  auto info = run_dir.empty() ? std::map<std::string, std::string>{} : run.info();
  std::map<std::string, int> counts;
  int good = 0;
  for (const auto& r : rows) {
    ++counts[r.state];
    good += r.state == "done" || r.state == "skipped" ? 1 : 0;
  }
  std::ostringstream html;
  html << report::page_head("pipeline " + p.name, kIndexCss) << "<h1>pipeline " << escape(p.name) << "</h1>"
       << "<p class=\"meta\">" << escape(fs::absolute(p.file).string()) << "<br>";
  if (run_dir.empty()) {
    html << "no run recorded: states from the outputs";
  } else {
    html << "run " << escape(run_dir) << ", profile " << escape(info["profile"]) << ", started "
         << escape(info["started"]) << ", finished " << escape(info["finished"].empty() ? "-" : info["finished"]);
  }
  html << "</p><p class=\"summary " << (good == static_cast<int>(rows.size()) ? "done" : "failed") << "\">";
  html << (good == static_cast<int>(rows.size()) ? "every task done or skipped" : "not every task done or skipped")
       << ":";
  const char* sep = " ";
  for (const auto& [state, n] : counts) html << std::exchange(sep, ", ") << n << ' ' << escape(state);
  html << "</p><table class=\"tasks\"><tr><th>step</th><th>state</th><th>started<br>finished</th>"
          "<th>attempts</th><th>exit</th><th>output</th><th>log</th><th>why</th></tr>";
  for (const auto& r : rows) {
    const std::string label = r.value.empty() ? r.step : r.step + "[" + r.value + "]";
    // The name of the task's record in the run directory: one per task, safe as a file name.
    const std::string name = fs::path(run.log_path(r.step, r.value)).stem().string();
    std::error_code ec;
    html << "<tr class=\"task\" data-step=\"" << escape(label) << "\" data-state=\"" << escape(r.state) << "\"><td class=\"step\">"
         << escape(label) << "</td><td class=\"state " << css_class(r.state) << "\">" << escape(r.state) << "</td><td class=\"time\">"
         << escape(r.started.empty() ? "-" : r.started) << "<br>" << escape(r.finished.empty() ? "-" : r.finished)
         << "</td><td>" << r.attempts << "</td><td>" << (r.exit_code >= 0 ? std::to_string(r.exit_code) : "-")
         << "</td><td>" << report_cell(r, reports, name, dir) << "</td><td>"
         << (r.log.empty() ? "-" : fs::exists(r.log, ec) ? link(r.log, dir, r.log) : escape(r.log))
         << "</td><td>";
    if (r.state == "failed") html << "<span class=\"error\">" << escape(first_error(r.log)) << "</span>";
    else html << escape(r.reason);
    html << "</td></tr>";
  }
  html << "</table></body></html>\n";
  // Whole or not at all: a browser or web server never sees half a page.
  const fs::path temp = page.string() + ".tmp";
  {
    std::ofstream file(temp);
    file << html.str();
    if (!file) throw Error("cannot write the index page " + page.string());
  }
  std::error_code ec;
  fs::rename(temp, page, ec);
  if (ec) throw Error("cannot write the index page " + page.string() + ": " + ec.message());
  return page.string();
}

void index_at_end(const Pipeline& p, const std::string& run_dir, std::ostream& out) {
  try {
    const std::string page = write_index(p, run_dir, "");
    out << "index " << page << '\n';
  } catch (const std::exception& e) {
    out << "no index page: " << e.what() << '\n';
  }
}

}  // namespace pearl::cluster::pipeline
