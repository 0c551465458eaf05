// `pearl pipeline check`: every task's job command validated as `pearl run` parses it.
#include <set>

#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/pipeline.hpp"
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

}  // namespace

void check_jobs(const Pipeline& p, Problems& out) {
  for (const auto& s : p.steps) {
    if (s.job.empty()) continue;
    std::set<std::string> seen;
    for (const auto& t : s.tasks) {
      try {
        (void)job_command_parameters(t.run_args(s.job));
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
