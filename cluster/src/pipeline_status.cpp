// `pearl pipeline status`: one line per task, from the run's records and, for tasks a
// run does not record, from the committed outputs themselves.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <ostream>

#include "pearl/cluster/pipeline_plan.hpp"
#include "pearl/cluster/profile.hpp"
#include "pearl/cluster/scheduler.hpp"
#include "pipeline_run.hpp"

namespace pearl::cluster::pipeline {

std::string first_error(const std::string& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.find("error") != std::string::npos) return line;
    if (!line.empty()) last = line;
  }
  return last.empty() ? "(the log is empty or missing)" : last;
}

namespace {

/// A record still pending or running when it was written: what the scheduler says now.
/// A job it no longer knows keeps its recorded state (the outputs decide below).
void ask_scheduler(TaskRecord& r, Scheduler* scheduler) {
  if (scheduler == nullptr || r.job_id.empty() || (r.state != "pending" && r.state != "running")) return;
  try {
    const JobStatus st = scheduler->query(r.job_id);
    if (st.state == JobState::pending) r.state = "pending";
    if (st.state == JobState::running) r.state = "running";
    if (st.state == JobState::completed) r.state = "done";
    if (st.state == JobState::failed || st.state == JobState::timeout) r.state = "failed";
    if (st.state == JobState::cancelled) r.state = "cancelled";
    if (st.finished()) r.exit_code = st.exit_code;
    // Afterok: Slurm leaves a dependant of a failed job pending for ever.
    if (st.state == JobState::pending && st.state_text.find("DependencyNeverSatisfied") != std::string::npos) {
      r.state = "never started";
    }
  } catch (const std::exception&) {
  }
}

}  // namespace

std::vector<TaskRecord> task_states(const Pipeline* p, const std::string& run_dir) {
  std::map<std::string, TaskRecord> records;
  if (!run_dir.empty()) {
    const RunDir run(run_dir);
    std::unique_ptr<Scheduler> scheduler;
    const std::string profile = run.info()["profile"];
    try {
      if (!profile.empty() && profile != "local") scheduler = make_scheduler(load_profile(profile));
    } catch (const std::exception&) {
    }
    for (auto& r : run.load()) {
      ask_scheduler(r, scheduler.get());
      records[r.step + "@" + r.value] = std::move(r);
    }
  }
  std::vector<TaskRecord> rows;
  if (p != nullptr) {
    for (const Step* s : p->order) {
      for (const auto& t : s->tasks) {
        const auto it = records.find(s->name + "@" + t.value);
        if (it != records.end()) {
          rows.push_back(it->second);
          records.erase(it);
          continue;
        }
        TaskRecord r;
        r.step = s->name, r.value = t.value, r.state = "never started";
        r.output = t.output;
        if (out_of_date(*s, t).empty()) r.state = "done", r.reason = "output up to date";
        rows.push_back(r);
      }
    }
  }
  for (auto& [_, r] : records) rows.push_back(r);  // steps no longer in the file
  return rows;
}

int print_status(const Pipeline* p, const std::string& run_dir, std::ostream& out) {
  if (!run_dir.empty()) out << "run " << run_dir << '\n';
  const auto rows = task_states(p, run_dir);
  int code = 0;
  out << std::left << std::setw(24) << "STEP" << std::setw(15) << "STATE" << std::setw(22) << "STARTED"
      << std::setw(22) << "FINISHED" << std::setw(12) << "JOB ID" << "OUTPUT\n";
  for (const auto& r : rows) {
    const std::string label = r.value.empty() ? r.step : r.step + "[" + r.value + "]";
    out << std::left << std::setw(24) << label << std::setw(15) << r.state << std::setw(22)
        << (r.started.empty() ? "-" : r.started) << std::setw(22) << (r.finished.empty() ? "-" : r.finished)
        << std::setw(12) << (r.job_id.empty() ? "-" : r.job_id) << (r.output.empty() ? "-" : r.output) << '\n';
    if (r.state == "failed") {
      out << "    error: " << first_error(r.log) << "\n    log:   " << r.log << '\n';
    } else if (r.state == "never started" && !r.reason.empty()) {
      out << "    " << r.reason << '\n';
    }
    if (r.state != "done" && r.state != "skipped") code = 1;
  }
  return code;
}

}  // namespace pearl::cluster::pipeline
