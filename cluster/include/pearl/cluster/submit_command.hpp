// pearl/cluster/submit_command.hpp — the `pearl submit` and `pearl profiles` commands.
//
//   pearl submit --profile tianhe2 --partition bigdata --nodes 4 --time 12:00:00 table.aggregate
//       --input 'table=/WORK/me/cases-*.h5:/cases' --by region --output agg.h5
//   pearl profiles            # every profile, and the file it comes from
//   pearl profiles tianhe2    # its fields, each with the file and line that set it
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "pearl/core/communicator.hpp"

namespace pearl::cluster {

/// `pearl submit [submit options] JOB [job options]` (args after "submit"): checks the job
/// as `pearl run` would (InputError, nothing queued), then renders, submits and prints
/// the job id; --dry-run prints the script; --wait returns the job's exit code.
/// `plugins` (--plugin libraries) are passed on to the batch job.
int submit_command(const std::vector<std::string>& args, const std::vector<std::string>& plugins,
                   Communicator& comm, std::ostream& out);

/// `pearl profiles [NAME|FILE]`.
int profiles_command(const std::vector<std::string>& args, std::ostream& out);

}  // namespace pearl::cluster
