// pearl/cluster/pipeline_record.hpp — a run directory: what a pipeline run did, task by
// task, so `pearl pipeline status` can say it after the fact (and after the scheduler
// has forgotten the jobs).
//
//   <runs>/<YYYYmmddTHHMMSSZ>-<pid>/run.txt            pipeline file, variables, profile, times
//   <runs>/<...>/tasks/<step>[@<value>].txt            one record per task (key = value lines)
//   <runs>/<...>/logs/<step>[@<value>].log             the task's output and errors
//
//   RunDir run = RunDir::create(p);  run.save(record);  auto all = RunDir(dir).load();
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pearl/cluster/pipeline.hpp"

namespace pearl::cluster::pipeline {

/// One task's record. States: pending, running, done, skipped, failed, cancelled,
/// never started.
struct TaskRecord {
  std::string step, value, state = "pending";
  std::string job_id, started, finished, output, log, command, reason;
  int exit_code = -1;
  int attempts = 0;
};

class RunDir {
 public:
  explicit RunDir(std::string dir) : dir_(std::move(dir)) {}
  /// A new run directory under p.runs, with run.txt written (variables, file, profile).
  static RunDir create(const Pipeline& p, const std::string& profile);
  /// The newest run directory under `runs`, or "" when there is none.
  static std::string latest(const std::string& runs);

  [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
  [[nodiscard]] std::string log_path(const std::string& step, const std::string& value) const;
  /// Writes the task's record (atomically: temporary file and rename).
  void save(const TaskRecord& r) const;
  [[nodiscard]] std::vector<TaskRecord> load() const;
  /// run.txt as key -> value.
  [[nodiscard]] std::map<std::string, std::string> info() const;
  void set_info(const std::string& key, const std::string& value) const;

 private:
  std::string dir_;
};

/// Current time as ISO-8601 UTC ("2026-12-07T02:00:00Z").
std::string utc_now();
/// Today as YYYY-MM-DD, UTC (the default of ${date}).
std::string utc_today();

}  // namespace pearl::cluster::pipeline
