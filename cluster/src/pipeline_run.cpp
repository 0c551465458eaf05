// `pearl pipeline run`: the graph step by step on this machine under the `local` profile
// (no scheduler: each task's batch script runs at once, ranks started by mpirun),
// skipping what is up to date, retrying failures other than bad input, recording
// everything in a run directory.
#include "pipeline_run.hpp"

#include <filesystem>
#include <ostream>
#include <set>

#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/pipeline_plan.hpp"
#include "pearl/core/error.hpp"

namespace pearl::cluster::pipeline {

namespace {

/// True when `pearl run` of this build accepts `flag` for the task (the --overwrite of a
/// runner that refuses existing outputs), so the pipeline passes it only where it exists.
bool runner_accepts(const Step& s, const Task& t, const std::string& flag) {
  auto args = t.run_args(s.job);
  args.push_back(flag);
  try {
    (void)parse_run(args);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

}  // namespace

BatchRequest step_request(const Pipeline& p, const Step& step, const Task& task, const Profile& profile, const RunDir& run) {
  BatchRequest r;
  r.profile = profile;
  r.nodes = std::max(1, step.resources.nodes);
  r.ntasks_per_node = step.resources.tasks;
  r.cpus_per_task = std::max(1, step.resources.cpus);
  r.time = step.resources.time;
  r.partition = step.resources.partition;
  // "nightly-health.outbreak": squeue shows whose step it is.
  r.job_name = p.name + "." + (task.value.empty() || task.value == "{task}" ? step.name : step.name + "-" + task.value);
  r.log_dir = (std::filesystem::path(run.dir()) / "logs").string();
  r.max_requeue = std::max(3, step.retries);
  r.retries = step.retries;  // under Slurm the batch script retries a failure in place
  r.command = task.run_args(step.job);
  r.workdir = std::filesystem::current_path().string();
  if (!task.output.empty()) {
    // Outputs go into directories the pipeline creates; an out-of-date one is replaced.
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(task.output).parent_path(), ec);
    if (runner_accepts(step, task, "--overwrite")) r.command.push_back("--overwrite");
  }
  return r;
}

int run_local(const Pipeline& p, std::ostream& out) {
  const Profile profile = load_profile("local");
  const auto scheduler = make_scheduler(profile);
  const RunDir run = RunDir::create(p, profile.name);
  out << "run directory " << run.dir() << '\n';
  std::set<std::string> failed;  // steps with a task that did not finish
  int code = 0;
  const auto decisions = plan(p);
  if (std::none_of(decisions.begin(), decisions.end(), [](const Decision& d) { return d.run; })) {
    out << "every step is up to date: nothing to run\n";
  }
  for (const auto& d : decisions) {
    const Step& s = *d.step;
    const Task& t = *d.task;
    TaskRecord r;
    r.step = s.name, r.value = t.value, r.output = t.output, r.reason = d.reason;
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
    for (int attempt = 0; attempt <= s.retries; ++attempt) {
      BatchRequest req = step_request(p, s, t, profile, run);
      // A retry continues from the checkpoint of the attempt before, where there is one
      // (the batch script adds --resume; only for a runner that knows it).
      if (attempt > 0 && runner_accepts(s, t, "--resume")) req.environment.emplace_back("PEARL_RESUME", "1");
      r.command = "pearl run " + joined(req.command);
      r.state = "running";
      r.started = utc_now();
      r.attempts = attempt + 1;
      run.save(r);
      r.job_id = scheduler->submit(req);  // the local profile: returns when the job ended
      const JobStatus st = scheduler->query(r.job_id);
      r.log = scheduler->log_path(req, r.job_id);
      r.exit_code = st.exit_code;
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
  index_at_end(p, run.dir(), out);
  return code;
}

}  // namespace pearl::cluster::pipeline
