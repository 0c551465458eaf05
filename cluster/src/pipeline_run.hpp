// cluster/src/pipeline_run.hpp — the commands behind `pearl pipeline run` and `status`.
#pragma once

#include <iosfwd>
#include <string>

#include "pearl/cluster/pipeline.hpp"
#include "pearl/cluster/pipeline_record.hpp"

namespace pearl::cluster::pipeline {

/// Runs every task of `p` in order on this machine; returns 0 when every task is done
/// or skipped, else 1. Records the run in a new run directory under p.runs.
int run_local(const Pipeline& p, std::ostream& out);

/// Prints one line per task of the run in `run_dir` (or, for tasks it does not record,
/// of the committed outputs); returns 0 only when every task is done or skipped.
int print_status(const Pipeline* p, const std::string& run_dir, std::ostream& out);

}  // namespace pearl::cluster::pipeline
