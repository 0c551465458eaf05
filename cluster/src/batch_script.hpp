// batch_script.hpp (internal) — a BatchRequest made concrete and rendered into the batch
// script of slurm/batch.sh.in. Shared by every Scheduler: only the allocation lines
// (#SBATCH, or none without a scheduler) differ between them.
#pragma once

#include <string>
#include <vector>

#include "pearl/cluster/scheduler.hpp"

namespace pearl::cluster {

/// `r` with the profile's defaults filled in, paths made absolute and values checked:
/// throws InputError naming the option (--nodes, --time, --partition, ...).
BatchRequest resolve(const BatchRequest& r);

/// Where the script for `r` (resolved) is written: <log dir>/<job name>.sbatch.
std::string script_path(const BatchRequest& r);

/// The log file pattern for `r` (resolved): <log dir>/<job name>-%j.log (%A_%a for arrays).
std::string log_pattern(const BatchRequest& r);

/// The #SBATCH lines for `r` (resolved), each preceded by a comment saying what it is for.
std::vector<std::string> sbatch_lines(const BatchRequest& r);

/// The script: slurm/batch.sh.in with `r` (resolved) and `allocation` (the lines that ask
/// the scheduler for resources) filled in. `submit_command` is named in its comments.
std::string render_script(const BatchRequest& r, const std::vector<std::string>& allocation,
                          const std::string& submit_command);

/// `s` as one shell word (single-quoted unless it is plainly safe).
std::string shell_quote(const std::string& s);

}  // namespace pearl::cluster
