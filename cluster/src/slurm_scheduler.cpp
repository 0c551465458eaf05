// The Slurm scheduler (sbatch/squeue/scontrol/sacct, or Tianhe's yh* names) and the
// no-scheduler one of the `local` profile, behind pearl/cluster/scheduler.hpp.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "batch_script.hpp"
#include "pearl/cluster/scheduler.hpp"
#include "pearl/core/error.hpp"
#include "process.hpp"

namespace pearl::cluster {

namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

JobState state_of(const std::string& word) {
  static const std::map<std::string, JobState> states{
      {"PENDING", JobState::pending},        {"REQUEUED", JobState::pending},
      {"REQUEUE_HOLD", JobState::pending},   {"REQUEUE_FED", JobState::pending},
      {"CONFIGURING", JobState::pending},    {"RESV_DEL_HOLD", JobState::pending},
      {"RUNNING", JobState::running},        {"COMPLETING", JobState::running},
      {"SUSPENDED", JobState::running},      {"STAGE_OUT", JobState::running},
      {"SIGNALING", JobState::running},      {"RESIZING", JobState::running},
      {"COMPLETED", JobState::completed},    {"CANCELLED", JobState::cancelled},
      {"TIMEOUT", JobState::timeout},        {"FAILED", JobState::failed},
      {"NODE_FAIL", JobState::failed},       {"OUT_OF_MEMORY", JobState::failed},
      {"BOOT_FAIL", JobState::failed},       {"DEADLINE", JobState::failed},
      {"PREEMPTED", JobState::failed},
  };
  const std::string first = word.substr(0, word.find(' '));  // sacct: "CANCELLED by 0"
  const auto it = states.find(first);
  return it == states.end() ? JobState::unknown : it->second;
}

/// Several records (array tasks): not finished while any is not; else the worst.
JobStatus combine(const std::string& id, const std::vector<JobStatus>& parts) {
  JobStatus all;
  all.id = id;
  if (parts.empty()) return all;
  all = parts.front();
  all.id = id;
  for (const auto& p : parts) {
    if (!p.finished()) return JobStatus{id, p.state, p.state_text, -1, p.restarts};
    if (p.exit_code > all.exit_code || (all.state == JobState::completed && p.state != JobState::completed)) {
      all.state = p.state;
      all.state_text = p.state_text;
      all.exit_code = std::max(all.exit_code, p.exit_code);
    }
  }
  return all;
}

/// "ExitCode=75:0" -> 75; a job killed by signal N ("0:9") -> 128+N.
int exit_code_of(const std::string& text) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(R"((\d+):(\d+))"))) return -1;
  const int code = std::stoi(m[1].str());
  const int signal = std::stoi(m[2].str());
  return code == 0 && signal != 0 ? 128 + signal : code;
}

class SlurmScheduler final : public Scheduler {
 public:
  explicit SlurmScheduler(Profile profile) : profile_(std::move(profile)) {}

  std::string render(const BatchRequest& r) const override {
    const BatchRequest rr = resolve(r);
    return render_script(rr, allocation(rr), rr.profile.submit.front());
  }

  std::string submit(const BatchRequest& r) override {
    const BatchRequest rr = resolve(r);
    const std::string command = find_command(rr.profile.submit);
    fs::create_directories(rr.log_dir);
    const std::string path = script_path(rr);
    {
      std::ofstream f(path);
      f << render_script(rr, allocation(rr), fs::path(command).filename().string());
      if (!f) throw Error("cannot write the batch script " + path);
    }
    const ProcessResult res = run_process({command, path});
    std::smatch m;
    // "Submitted batch job 42" (sbatch, yhbatch); --parsable is not in every version.
    if (res.status != 0 || !std::regex_search(res.out, m, std::regex(R"(Submitted batch job (\d+))"))) {
      throw Error(fs::path(command).filename().string() + " refused the job (" + path +
                  "): " + trim(res.err + res.out));
    }
    return m[1].str();
  }

  std::string log_path(const BatchRequest& r, const std::string& id) const override {
    std::string path = log_pattern(resolve(r));
    for (const std::string key : {"%j", "%A"}) {
      if (const auto at = path.find(key); at != std::string::npos) path.replace(at, 2, id);
    }
    return path;
  }

  JobStatus query(const std::string& id) override {
    // scontrol knows the job while it is queued, running and for MinJobAge after, with
    // its exit code and restarts; squeue knows no exit code.
    const ProcessResult show = run_process({find_command(profile_.control), "show", "job", "-o", id});
    if (show.status == 0 && !trim(show.out).empty()) return from_scontrol(id, show.out);
    // Gone from the controller: accounting, if the cluster keeps it.
    const ProcessResult acct =
        run_process({find_command(profile_.accounting), "-n", "-X", "-P", "-j", id, "-o", "State,ExitCode,JobID"});
    if (acct.status == 0 && !trim(acct.out).empty()) return from_sacct(id, acct.out);
    JobStatus unknown;
    unknown.id = id;
    unknown.state_text = "job " + id + " is no longer known to the controller and accounting has no record (" +
                         trim(acct.err.empty() ? show.err : acct.err) + ")";
    return unknown;
  }

  JobStatus wait(const std::string& id, std::chrono::seconds poll) override {
    int unknown_in_a_row = 0;
    for (;;) {
      JobStatus s = query(id);
      if (s.finished()) return s;
      // A job just submitted can be unknown for a moment; unknown for long is an error.
      unknown_in_a_row = s.state == JobState::unknown ? unknown_in_a_row + 1 : 0;
      if (unknown_in_a_row > 30) throw Error(s.state_text);
      std::this_thread::sleep_for(poll);
    }
  }

  void cancel(const std::string& id) override { checked({find_command(profile_.cancel), id}); }
  void requeue(const std::string& id) override { checked({find_command(profile_.control), "requeue", id}); }

 private:
  static std::vector<std::string> allocation(const BatchRequest& r) {
    std::vector<std::string> lines{"# What Slurm allocates (#SBATCH lines: read by " + r.profile.submit.front() +
                                   ", comments to bash):"};
    for (auto& l : sbatch_lines(r)) lines.push_back(std::move(l));
    return lines;
  }

  static void checked(const std::vector<std::string>& argv) {
    const ProcessResult res = run_process(argv);
    if (res.status != 0) throw Error(fs::path(argv[0]).filename().string() + " " + argv[1] + ": " + trim(res.err));
  }

  static JobStatus from_scontrol(const std::string& id, const std::string& text) {
    std::vector<JobStatus> parts;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (!std::regex_search(line, m, std::regex(R"(JobState=(\S+))"))) continue;
      JobStatus s;
      s.id = id;
      s.state_text = m[1].str();
      s.state = state_of(s.state_text);
      if (std::regex_search(line, m, std::regex(R"(\bExitCode=(\S+))"))) s.exit_code = exit_code_of(m[1].str());
      if (std::regex_search(line, m, std::regex(R"(\bRestarts=(\d+))"))) s.restarts = std::stoi(m[1].str());
      if (!s.finished()) s.exit_code = -1;
      parts.push_back(s);
    }
    return combine(id, parts);
  }

  static JobStatus from_sacct(const std::string& id, const std::string& text) {
    std::vector<JobStatus> parts;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      const auto bar = line.find('|');
      if (bar == std::string::npos) continue;
      JobStatus s;
      s.id = id;
      s.state_text = line.substr(0, bar);
      s.state = state_of(s.state_text);
      s.exit_code = s.finished() ? exit_code_of(line.substr(bar + 1)) : -1;
      parts.push_back(s);
    }
    return combine(id, parts);
  }

  Profile profile_;
};

/// The `local` profile: no queue; submit runs the script at once and remembers how it ended.
class LocalScheduler final : public Scheduler {
 public:
  std::string render(const BatchRequest& r) const override {
    const BatchRequest rr = resolve(r);
    return render_script(rr, allocation(rr), "bash");
  }

  std::string submit(const BatchRequest& r) override {
    const BatchRequest rr = resolve(r);
    fs::create_directories(rr.log_dir);
    const std::string path = script_path(rr);
    {
      std::ofstream f(path);
      f << render_script(rr, allocation(rr), "bash");
      if (!f) throw Error("cannot write the batch script " + path);
    }
    std::string id = "local-" + std::to_string(getpid()) + "-" + std::to_string(done_.size());
    const std::string log = log_path(rr, id);
    const ProcessResult res = run_process({"bash", "-c", "exec bash \"$0\" >>\"$1\" 2>&1", path, log});
    JobStatus s;
    s.id = id;
    s.exit_code = res.status;
    s.state = res.status == 0 ? JobState::completed : JobState::failed;
    s.state_text = res.status == 0 ? "COMPLETED" : "FAILED";
    done_[id] = s;
    return id;
  }

  std::string log_path(const BatchRequest& r, const std::string& id) const override {
    return resolve(r).log_dir + "/" + r.job_name + "-" + id + ".log";
  }

  JobStatus query(const std::string& id) override {
    const auto it = done_.find(id);
    if (it == done_.end()) throw Error("no local job " + id);
    return it->second;
  }
  JobStatus wait(const std::string& id, std::chrono::seconds) override { return query(id); }
  void cancel(const std::string&) override {}  // already finished when submit returned
  void requeue(const std::string& id) override { throw Error("the local profile cannot requeue " + id); }

 private:
  static std::vector<std::string> allocation(const BatchRequest& r) {
    return {"# Nothing is allocated: profile " + r.profile.name + " has no scheduler; the script runs at once with " +
            std::to_string(r.nodes * r.ntasks_per_node) + " ranks."};
  }
  std::map<std::string, JobStatus> done_;
};

}  // namespace

std::string find_command(const std::vector<std::string>& candidates) {
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env == nullptr ? "/usr/bin:/bin" : path_env;
  for (const auto& name : candidates) {
    if (name.find('/') != std::string::npos) {
      if (access(name.c_str(), X_OK) == 0) return name;
      continue;
    }
    std::istringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
      const fs::path full = fs::path(dir.empty() ? "." : dir) / name;
      if (access(full.c_str(), X_OK) == 0 && fs::is_regular_file(full)) return full.string();
    }
  }
  std::string names;
  for (const auto& n : candidates) names += (names.empty() ? "" : ", ") + n;
  throw Error("none of " + names + " is on PATH (is this a login node of the cluster the profile names?)");
}

std::unique_ptr<Scheduler> make_scheduler(const Profile& profile) {
  if (profile.scheduler == "slurm") return std::make_unique<SlurmScheduler>(profile);
  if (profile.scheduler == "none") return std::make_unique<LocalScheduler>();
  throw InputError("profile " + profile.name + ": unknown scheduler '" + profile.scheduler + "'");
}

}  // namespace pearl::cluster
