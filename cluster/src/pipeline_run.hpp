// cluster/src/pipeline_run.hpp — the commands behind `pearl pipeline run`, `submit` and
// `status`, and the batch request of a step they share.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "pearl/cluster/pipeline.hpp"
#include "pearl/cluster/pipeline_record.hpp"
#include "pearl/cluster/scheduler.hpp"

namespace pearl::cluster::pipeline {

/// The batch job of a step: its resources over the profile's, `task`'s command (with
/// --overwrite where an output is replaced), logs in the run directory.
BatchRequest step_request(const Pipeline& p, const Step& step, const Task& task, const Profile& profile, const RunDir& run);

/// Runs every task of `p` in order under the `local` profile (no scheduler); returns 0
/// when every task is done or skipped, else 1. Records the run under p.runs.
int run_local(const Pipeline& p, std::ostream& out);

/// Submits every task that is out of date as Slurm jobs with afterok dependencies (a
/// fan-out as one job array), records the run; with `wait`, waits for all of them and
/// returns 0 only when every task is done or skipped. `dry_run`: prints the plan only.
int submit_all(const Pipeline& p, const std::string& profile, bool dry_run, bool wait, std::ostream& out);

/// Every task of `p` with its state: the record in `run_dir` (states still pending or
/// running asked of the profile's scheduler), or for a task the run does not record,
/// `done` when its output is up to date and `never started` otherwise; then the records
/// of steps no longer in the file. `p` may be null (records only), `run_dir` "" (outputs only).
std::vector<TaskRecord> task_states(const Pipeline* p, const std::string& run_dir);

/// The first line of a task's log that reports an error (else its last non-empty line).
std::string first_error(const std::string& log);

/// Writes the run's index page, `page` ("" for RUN_DIR/index.html): every task with its
/// state, times, output, log and, for a failed task, its first error line, linked to the
/// report of each finished task's output, rendered into reports/ beside the page.
/// Returns the page's path. (cluster/src/report/pipeline_index.cpp)
std::string write_index(const Pipeline& p, const std::string& run_dir, const std::string& page);

/// At the end of `run` (and `submit --wait`): writes RUN_DIR/index.html and prints
/// "index PATH". The tasks' results stand whatever happens to the page: one that cannot be
/// written is said ("no index page: ...") and changes no exit code.
void index_at_end(const Pipeline& p, const std::string& run_dir, std::ostream& out);

/// Prints one line per task of the run in `run_dir` (or, for tasks it does not record,
/// of the committed outputs); returns 0 only when every task is done or skipped.
int print_status(const Pipeline* p, const std::string& run_dir, std::ostream& out);

/// `schedule`: a batch job that begins at `at` (HH:MM), submits the pipeline and itself
/// again for the next day; with `crontab`, prints the equivalent crontab line instead.
int schedule(const Pipeline& p, const std::string& at, const std::string& profile, const std::vector<std::string>& sets,
             bool crontab, std::ostream& out);
/// Cancels the schedule job of `p`.
int unschedule(const Pipeline& p, const std::string& profile, std::ostream& out);

/// Prints the plan: `run` or `skip` and the reason for every task. Returns how many run.
int print_plan(const Pipeline& p, std::ostream& out);

}  // namespace pearl::cluster::pipeline
