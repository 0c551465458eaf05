// pearl/cluster/scheduler.hpp — submitting pearl jobs to a batch scheduler.
//
// STABLE (others build on it: `pearl submit`, `pearl pipeline`): BatchRequest and its
// fields, JobState/JobStatus, the Scheduler interface and make_scheduler(). New fields
// may be added to BatchRequest with defaults; none will be removed or change meaning.
// The batch script's text (render()) is NOT stable: it follows slurm/batch.sh.in.
//
// A Scheduler renders a request into a batch script, submits it, and asks about, cancels
// or requeues the job. Slurm (sbatch/squeue/..., or Tianhe's yh* names, as the profile
// says) is the first implementation; a site with another scheduler (Shenzhen's newer
// systems) gets its own class behind the same interface.
//
//   pearl::cluster::BatchRequest r;
//   r.profile = pearl::cluster::load_profile("slurm");
//   r.nodes = 2;
//   r.job_name = "agg";
//   r.command = {"table.aggregate", "--input", "table=data/*.h5", "--by", "region", "--output", "agg.h5"};
//   auto s = pearl::cluster::make_scheduler(r.profile);
//   std::string id = s->submit(r);            // writes LOGDIR/agg.sbatch, prints nothing
//   pearl::cluster::JobStatus st = s->wait(id);   // until it ends: st.state, st.exit_code
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pearl/cluster/profile.hpp"

namespace pearl::cluster {

/// One batch job running `pearl run <command...>` on an allocation.
struct BatchRequest {
  Profile profile;              // commands, launcher, defaults, setup and environment
  int nodes = 1;
  int ntasks_per_node = 0;      // 0: profile.cores_per_node / cpus_per_task, else 1
  int cpus_per_task = 1;        // also OMP_NUM_THREADS and `--threads` unless given
  std::string time;             // Slurm time limit ("HH:MM:SS", "D-HH:MM:SS", minutes); empty: profile's
  std::string partition;        // empty: profile's
  std::string account;          // empty: profile's
  std::string job_name = "pearl";
  std::string log_dir;          // empty: profile's; made absolute at submission
  int max_requeue = 3;          // times the script requeues itself after exit 75 (checkpointed)
  int retries = 0;              // times it requeues itself after a failure (exit 1, a crash; not 2)
  std::vector<std::string> command;  // the job and its options: what follows `pearl run`
  std::vector<std::string> pearl_args;  // before `run`, e.g. {"--plugin", "lib.so"}
  std::string pearl_program;    // the pearl executable; empty: the running one
  std::string workdir;          // where the job runs; empty: the current directory

  // For pipelines (docs/pipelines.md):
  std::vector<std::string> dependencies;  // start after these jobs succeed (afterok)
  std::string array;            // Slurm array spec, e.g. "0-2"; empty: no array
  std::vector<std::string> array_values;  // value of task i; replaces "{task}" in command
                                          // (array defaults to "0-(n-1)" when these are given)
  std::string begin;            // do not start before (sbatch --begin), e.g. "02:00"
  std::vector<std::pair<std::string, std::string>> environment;  // extra exports, after the profile's
};

enum class JobState { pending, running, completed, failed, cancelled, timeout, unknown };

struct JobStatus {
  std::string id;
  JobState state = JobState::unknown;
  std::string state_text;   // the scheduler's own word (PENDING, COMPLETED, NODE_FAIL, ...)
  int exit_code = -1;       // of the batch script, once finished; -1 unknown
  int restarts = 0;         // times requeued
  [[nodiscard]] bool finished() const {
    return state != JobState::pending && state != JobState::running && state != JobState::unknown;
  }
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  /// The batch script for `r`, complete and readable (runs unchanged if submitted by hand).
  [[nodiscard]] virtual std::string render(const BatchRequest& r) const = 0;

  /// Writes the script to <log dir>/<job name>.sbatch (creating the log dir) and submits
  /// it. Returns the job id. Throws Error if the scheduler refuses (its message included).
  virtual std::string submit(const BatchRequest& r) = 0;

  /// Where the job's log is (its stdout and stderr), for a job of `r` with id `id`.
  [[nodiscard]] virtual std::string log_path(const BatchRequest& r, const std::string& id) const = 0;

  /// The job's state now. squeue first; once the job left the queue, scontrol (while the
  /// controller remembers it), then accounting (sacct) if the cluster has it.
  virtual JobStatus query(const std::string& id) = 0;

  /// Polls query() until the job finished (a requeued job is not finished).
  virtual JobStatus wait(const std::string& id, std::chrono::seconds poll = std::chrono::seconds(2)) = 0;

  virtual void cancel(const std::string& id) = 0;
  virtual void requeue(const std::string& id) = 0;
};

/// The scheduler the profile names: "slurm", or "none" (the `local` profile: submit runs
/// the script at once, under mpirun, and returns when it ended). InputError otherwise.
std::unique_ptr<Scheduler> make_scheduler(const Profile& profile);

/// The first of `candidates` found on PATH, as a full path; throws Error naming them all.
std::string find_command(const std::vector<std::string>& candidates);

}  // namespace pearl::cluster
