#include <fstream>
#include <sstream>

#include "frame.hpp"
#include "job_charts.hpp"
#include "page.hpp"
#include "pearl/cluster/report.hpp"
#include "pearl/cluster/run_metrics.hpp"
#include "pearl/cluster/stats.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/memory.hpp"
#include "svg_charts.hpp"

namespace pearl::cluster {

namespace {

using report::escape;

/// Rows of a table shown as they are, and the rows read for charts (the rest is summarised).
constexpr std::size_t kShownRows = 20;
constexpr std::uint64_t kChartRows = 500'000;

const char* const kStyle =
    "body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:2px 6px;"
    "text-align:right}th{background:#f4f4f4}figure{margin:12px 0}"
    "svg.chart text{font-size:11px;fill:#333}svg.chart text.title{font-size:13px;font-weight:bold}"
    "svg.chart .axis{stroke:#999}.meta{color:#555;font-size:13px}";

}  // namespace

std::string report::page_head(const std::string& title, const std::string& css) {
  return "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title><style>" + kStyle +
         css + "</style></head><body>";
}

namespace {

std::string first_rows(const report::Frame& f) {
  std::string html = "<table class=\"rows\"><tr>";
  for (const auto& c : f.columns) html += "<th>" + escape(c.name) + "</th>";
  html += "</tr>";
  for (std::size_t i = 0; i < std::min<std::uint64_t>(f.read, kShownRows); ++i) {
    html += "<tr>";
    for (const auto& c : f.columns) html += "<td>" + escape(c.cell(i)) + "</td>";
    html += "</tr>";
  }
  return html + "</table>";
}

/// The run from its metrics: stages per rank on a time line, shuffle bytes and memory.
std::string run_section(const nlohmann::json& m) {
  std::vector<std::string> lanes;
  std::vector<std::vector<report::Segment>> segments;
  std::vector<std::string> ranks;
  std::vector<double> sent, rss;
  for (std::size_t r = 0; r < m["per_rank"].size(); ++r) {
    lanes.push_back("rank " + std::to_string(r));
    ranks.push_back(lanes.back());
    std::vector<report::Segment> lane;
    for (const auto& s : m["stages"]) {
      if (r < s["per_rank"].size()) {
        const auto& f = s["per_rank"][r];
        lane.push_back({s.value("name", "?"), f.value("started", 0.0), f.value("seconds", 0.0)});
      }
    }
    segments.push_back(std::move(lane));
    double bytes = 0;
    for (const auto& o : m["operations"]) {
      if (r < o["per_rank"].size()) bytes += o["per_rank"][r].value("bytes_sent", 0.0);
    }
    sent.push_back(bytes);
    rss.push_back(m["per_rank"][r].value("peak_rss_bytes", 0.0));
  }
  const ScalingPoint p = scaling_point(m);
  std::ostringstream s;
  s << "<h2>The run</h2><p class=\"meta\">" << m["ranks"] << " ranks x " << m["threads"] << " threads on "
    << escape(m["hosts"].dump()) << "; " << p.seconds << " s; " << escape(format_bytes(static_cast<std::size_t>(p.shuffle_bytes)))
    << " shuffled; exit " << m["exit_status"] << "; " << escape(m.value("mpi_version", "")) << "; HDF5 "
    << escape(m.value("hdf5_version", "")) << "</p>";
  s << report::timeline("Stages per rank (seconds since start)", lanes, segments);
  s << report::bar_chart("Bytes sent in the shuffle, per rank", ranks, sent, " B");
  s << report::bar_chart("Peak RSS per rank", ranks, rss, " B");
  return s.str();
}

/// The job's options from the output's `parameters` attribute (JSON); none when it is
/// missing or not an object of strings.
report::Parameters output_parameters(const std::filesystem::path& output) {
  report::Parameters out;
  const auto doc = nlohmann::json::parse(report::root_attribute(output, "parameters"), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return out;
  for (const auto& [name, value] : doc.items()) {
    if (value.is_string()) out[name] = value.get<std::string>();
  }
  return out;
}

}  // namespace

std::string render_report(const std::filesystem::path& output) {
  if (!std::filesystem::exists(output)) throw InputError("'pearl report': no such file '" + output.string() + "'");
  const std::string job = report::root_attribute(output, "job");
  const auto tables = report::output_tables(output);
  if (tables.empty()) {
    throw InputError("'" + output.string() + "' is not a pearl output (no 'tables' attribute); 'pearl inspect' shows what it holds");
  }
  std::ostringstream html;
  html << report::page_head(job + " — " + output.filename().string());
  html << "<h1>" << escape(job) << ": " << escape(output.filename().string()) << "</h1><p class=\"meta\">started "
       << escape(report::root_attribute(output, "started")) << ", finished "
       << escape(report::root_attribute(output, "finished")) << ", pearl "
       << escape(report::root_attribute(output, "pearl_version")) << "<br>parameters "
       << escape(report::root_attribute(output, "parameters")) << "</p>";
  const report::Parameters parameters = output_parameters(output);
  for (const auto& name : tables) {
    const report::Frame f = report::read_frame(output, name, kChartRows);
    html << "<h2>Table " << escape(name) << "</h2><p class=\"meta\">" << f.rows << " rows"
         << (f.read < f.rows ? " (charts from the first " + std::to_string(f.read) + ")" : "") << "</p>";
    const std::string charts = report::job_charts(job, f, parameters);
    html << charts << report::generic_table(f, /*with_chart=*/charts.empty()) << first_rows(f);
  }
  const auto metrics = metrics_path(output, false);
  if (std::filesystem::exists(metrics)) html << run_section(read_metrics(metrics.string()));
  html << "</body></html>\n";
  return html.str();
}

void report_command(const std::vector<std::string>& args, std::ostream& out) {
  std::filesystem::path input, page;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-o" || args[i] == "--output") {
      if (i + 1 == args.size()) throw InputError("'pearl report': -o needs a file name (-o report.html)");
      page = args[++i];
    } else if (input.empty()) {
      input = args[i];
    } else {
      throw InputError("'pearl report' takes one output file (pearl report OUT.h5 [-o report.html])");
    }
  }
  if (input.empty()) throw InputError("'pearl report' needs an output file (pearl report OUT.h5 [-o report.html])");
  if (page.empty()) {
    page = input;
    page.replace_extension(".report.html");
  }
  const std::string html = render_report(input);
  std::ofstream file(page);
  file << html;
  if (!file) throw Error("cannot write " + page.string());
  out << "wrote " << page.string() << '\n';
}

}  // namespace pearl::cluster
