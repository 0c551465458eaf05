// `pearl pipeline submit`: the tasks that are out of date as batch jobs, all at once,
// each step after the steps it needs (afterok), a fan-out as one job array.
#include <map>
#include <ostream>
#include <set>

#include "pearl/cluster/pipeline_plan.hpp"
#include "pearl/core/error.hpp"
#include "pipeline_run.hpp"

namespace pearl::cluster::pipeline {

namespace {

std::string state_word(const JobStatus& st) {
  switch (st.state) {
    case JobState::pending: return "pending";
    case JobState::running: return "running";
    case JobState::completed: return "done";
    case JobState::cancelled: return "cancelled";
    case JobState::failed:
    case JobState::timeout: return "failed";
    case JobState::unknown: break;
  }
  return "unknown";
}

struct Submitted {
  std::string id;
  std::vector<TaskRecord> records;
};

}  // namespace

int print_plan(const Pipeline& p, std::ostream& out) {
  int runs = 0;
  for (const auto& d : plan(p)) {
    out << (d.run ? "run   " : "skip  ") << task_label(*d.step, *d.task) << ": " << d.reason << '\n';
    runs += d.run ? 1 : 0;
  }
  if (runs == 0) out << "every step is up to date: nothing to run\n";
  return runs;
}

int submit_all(const Pipeline& p, const std::string& profile_name, bool dry_run, bool wait, std::ostream& out) {
  const int runs = print_plan(p, out);
  if (dry_run) return 0;
  if (runs == 0) {
    out << "nothing submitted\n";
    return 0;
  }
  const Profile profile = load_profile(profile_name.empty() ? "slurm" : profile_name);
  const auto scheduler = make_scheduler(profile);
  // No second copy while the previous run is still queued or running.
  if (const std::string last = RunDir::latest(p.runs); !last.empty()) {
    for (const auto& r : RunDir(last).load()) {
      if (r.job_id.empty() || (r.state != "pending" && r.state != "running")) continue;
      try {
        const JobStatus st = scheduler->query(r.job_id);
        if (st.state == JobState::pending || st.state == JobState::running) {
          out << "the previous run " << last << " is still going (job " << r.job_id << "): nothing submitted\n";
          return 0;
        }
      } catch (const std::exception&) {
      }
    }
  }
  const RunDir run = RunDir::create(p, profile.name);
  std::map<std::string, std::vector<const Decision*>> to_run;  // step -> its tasks that run
  const auto decisions = plan(p);
  for (const auto& d : decisions) {
    if (d.run) to_run[d.step->name].push_back(&d);
  }
  std::map<std::string, Submitted> jobs;
  out << "run directory " << run.dir() << '\n';
  for (const auto& d : decisions) {
    if (!d.run) {
      TaskRecord r;
      r.step = d.step->name, r.value = d.task->value, r.output = d.task->output, r.state = "skipped";
      r.reason = d.reason;
      run.save(r);
    }
  }
  for (const Step* s : p.order) {
    const auto it = to_run.find(s->name);
    if (it == to_run.end()) continue;
    const bool array = !s->fan_name.empty();
    BatchRequest req = step_request(p, *s, array ? s->array_task : s->tasks.front(), profile, run);
    if (array) {
      for (const auto* d : it->second) req.array_values.push_back(d->task->value);
      req.array = "0-" + std::to_string(req.array_values.size() - 1);
      if (s->resources.array_limit > 0) req.array += "%" + std::to_string(s->resources.array_limit);
    }
    for (const auto& n : s->needs) {
      if (jobs.count(n) != 0) req.dependencies.push_back(jobs[n].id);
    }
    Submitted sub;
    sub.id = scheduler->submit(req);
    for (std::size_t i = 0; i < it->second.size(); ++i) {
      const Decision& d = *it->second[i];
      TaskRecord r;
      r.step = s->name, r.value = d.task->value, r.output = d.task->output, r.reason = d.reason;
      r.state = "pending";
      r.job_id = array ? sub.id + "_" + std::to_string(i) : sub.id;
      r.log = scheduler->log_path(req, sub.id);  // an array's: with %a for the task
      if (const auto at = r.log.find("%a"); at != std::string::npos) r.log.replace(at, 2, std::to_string(i));
      r.started = utc_now();
      std::string cmd;
      for (const auto& w : d.task->run_args(s->job)) cmd += " " + w;
      r.command = "pearl run" + cmd;
      run.save(r);
      sub.records.push_back(r);
    }
    std::string deps;
    for (const auto& dep : req.dependencies) deps += (deps.empty() ? "" : ",") + dep;
    out << "submitted " << s->name << ": job " << sub.id;
    if (array) out << " (array of " << req.array_values.size() << ")";
    if (!deps.empty()) out << " after " << deps;
    out << '\n';
    jobs[s->name] = std::move(sub);
  }
  if (!wait) return 0;
  // Afterok: a dependant of a failed job would wait forever; cancel it and say so.
  std::set<std::string> failed;
  int code = 0;
  for (const Step* s : p.order) {
    const auto it = jobs.find(s->name);
    if (it == jobs.end()) continue;
    std::string blocked;
    for (const auto& n : s->needs) {
      if (failed.count(n) != 0 && blocked.empty()) blocked = n;
    }
    if (!blocked.empty()) scheduler->cancel(it->second.id);
    for (auto& r : it->second.records) {
      if (!blocked.empty()) {
        r.state = "never started", r.reason = "step " + blocked + " failed";
      } else {
        const JobStatus st = scheduler->wait(r.job_id);
        r.state = state_word(st);
        r.exit_code = st.exit_code;
      }
      r.finished = utc_now();
      run.save(r);
      if (r.state != "done") {
        failed.insert(s->name);
        code = 1;
      }
      out << (r.value.empty() ? r.step : r.step + "[" + r.value + "]") << ": " << r.state << " (job " << r.job_id << ", log " << r.log << ")\n";
    }
  }
  run.set_info("finished", utc_now());
  index_at_end(p, run.dir(), out);
  return code;
}

}  // namespace pearl::cluster::pipeline
