// `pearl pipeline check`: every task's job command validated as `pearl run` parses it.
#include <algorithm>
#include <filesystem>
#include <set>

#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/pipeline.hpp"
#include "pearl/cluster/runner.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"

namespace pearl::cluster::pipeline {

namespace {

/// What the runner's first stage checks before opening any file: required inputs
/// given, --output given exactly when the job writes one.
void check_declared(const Step& s, const Task& t, Problems& out) {
  const auto* entry = JobRegistry::instance().find(s.job);
  if (entry == nullptr) return;
  auto job = entry->make();
  JobSpec spec(entry->name);
  job->declare(spec);
  for (const auto& in : spec.inputs()) {
    if (!in.required) continue;
    bool given = false;
    for (const auto& text : t.inputs) given = given || text.rfind(in.name + "=", 0) == 0;
    if (!given) out.push_back({s.line, s.name, s.job + " needs 'input = " + in.name + "=GLOB' (" + in.description + ")"});
  }
  if (spec.has_output() && t.output.empty()) out.push_back({s.line, s.name, s.job + " needs 'output = FILE.h5'"});
  if (!spec.has_output() && !t.output.empty()) {
    out.push_back({s.line_of("output"), s.name, s.job + " writes no output file; drop 'output ='"});
  }
}

std::string scratch_output() {
  return (std::filesystem::temp_directory_path() / "pearl-pipeline-check-output.h5").string();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> task_parameters(const Step& step, const Task& task) {
  return parse_run(task.run_args(step.job)).settings.parameters;
}

void check_jobs(const Pipeline& p, Problems& out, Communicator* comm) {
  for (const auto& s : p.steps) {
    if (s.job.empty()) continue;
    std::set<std::string> seen;
    for (const auto& t : s.tasks) {
      try {
        auto run = parse_run(t.run_args(s.job));
        if (comm != nullptr && std::none_of(t.inputs.begin(), t.inputs.end(), [&](const std::string& in) { return produced_by_a_step(p, in); })) {
          // As `pearl submit` checks a job, but with the output in a directory that exists
          // (the pipeline creates output directories before a step runs).
          run.settings.output = run.settings.output.empty() ? "" : scratch_output();
          check_job(*run.job, *run.spec, run.settings, *comm);
        }
      } catch (const InputError& e) {
        const std::string message = e.what();
        const bool job_line = message.rfind("unknown job", 0) == 0;
        std::string where = t.value.empty() ? "" : " (for_each " + s.fan_name + " = " + t.value + ")";
        if (seen.insert(message).second) {
          out.push_back({s.line_of(job_line ? "job" : "options"), s.name, message + where});
        }
        continue;
      }
      check_declared(s, t, out);
    }
  }
}

}  // namespace pearl::cluster::pipeline
