// `pearl pipeline run`: the graph step by step on this machine (the local profile: no
// scheduler, `mpiexec` for steps of more than one rank), skipping what is up to date,
// retrying failures other than bad input, recording everything in a run directory.
#include "pipeline_run.hpp"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>

#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/pipeline_plan.hpp"
#include "pearl/core/error.hpp"
#include "pipeline_spawn.hpp"

#ifndef PEARL_MPIEXEC
#define PEARL_MPIEXEC "mpiexec"
#endif

namespace pearl::cluster::pipeline {

namespace {

/// True when `pearl run` of this build accepts `flag` for the task (a newer runner's
/// --overwrite or --resume), so the pipeline passes it only where it exists.
bool runner_accepts(const Step& s, const Task& t, const std::string& flag) {
  auto args = t.run_args(s.job);
  args.push_back(flag);
  try {
    (void)job_command_parameters(args);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

std::vector<std::string> launch_command(const Step& s, const Task& t, bool retry) {
  std::vector<std::string> cmd;
  const int ranks = std::max(1, s.resources.nodes) * std::max(1, s.resources.tasks);
  if (ranks > 1) {
    const char* launcher = std::getenv("PEARL_MPIEXEC");
    cmd = {launcher != nullptr && *launcher != '\0' ? launcher : PEARL_MPIEXEC, "-n", std::to_string(ranks)};
  }
  cmd.push_back(self_exe());
  cmd.push_back("run");
  const auto args = t.run_args(s.job);
  cmd.insert(cmd.end(), args.begin(), args.end());
  // An out-of-date output is replaced: a runner that refuses existing outputs unless told
  // must be told; a retry continues from its checkpoint where the runner can.
  std::error_code ec;
  if (!t.output.empty() && std::filesystem::exists(t.output, ec) && runner_accepts(s, t, "--overwrite")) {
    cmd.push_back("--overwrite");
  }
  if (retry && runner_accepts(s, t, "--resume")) cmd.push_back("--resume");
  return cmd;
}

std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

}  // namespace

int run_local(const Pipeline& p, std::ostream& out) {
  const RunDir run = RunDir::create(p, "local");
  out << "run directory " << run.dir() << '\n';
  std::set<std::string> failed;  // steps with a task that did not finish
  int code = 0;
  for (const auto& d : plan(p)) {
    const Step& s = *d.step;
    const Task& t = *d.task;
    TaskRecord r;
    r.step = s.name, r.value = t.value;
    r.output = t.output;
    r.log = run.log_path(s.name, t.value);
    r.reason = d.reason;
    const std::string label = task_label(s, t);
    std::string blocked;
    for (const auto& n : s.needs) {
      if (failed.count(n) != 0 && blocked.empty()) blocked = n;
    }
    if (!blocked.empty()) {
      r.state = "never started";
      r.reason = "step " + blocked + " failed";
      failed.insert(s.name);
      run.save(r);
      out << label << ": never started (step " << blocked << " failed)\n";
      code = 1;
      continue;
    }
    if (!d.run) {
      r.state = "skipped";
      run.save(r);
      out << label << ": skipped, " << d.reason << '\n';
      continue;
    }
    out << label << ": runs, " << d.reason << '\n' << std::flush;
    r.job_id = "local";
    for (int attempt = 0; attempt <= s.retries; ++attempt) {
      const auto cmd = launch_command(s, t, attempt > 0);
      r.command = joined(cmd);
      r.state = "running";
      r.started = utc_now();
      r.attempts = attempt + 1;
      run.save(r);
      std::vector<std::string> env;
      if (s.resources.cpus > 0) env.push_back("OMP_NUM_THREADS=" + std::to_string(s.resources.cpus));
      r.exit_code = run_logged(cmd, env, r.log);
      r.finished = utc_now();
      if (r.exit_code == 0) break;
      out << label << ": attempt " << attempt + 1 << " failed with exit code " << r.exit_code;
      if (r.exit_code == 2) {
        out << " (bad input: not retried)\n";
        break;
      }
      out << (attempt < s.retries ? ", retrying\n" : "\n");
    }
    r.state = r.exit_code == 0 ? "done" : "failed";
    run.save(r);
    if (r.exit_code == 0) {
      out << label << ": done (" << t.output << ")\n";
    } else {
      out << label << ": failed, log " << r.log << '\n';
      failed.insert(s.name);
      code = 1;
    }
  }
  run.set_info("finished", utc_now());
  return code;
}

}  // namespace pearl::cluster::pipeline
