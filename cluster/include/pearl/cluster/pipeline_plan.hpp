// pearl/cluster/pipeline_plan.hpp — which tasks of a pipeline must run and why: a task is
// up to date (skipped) when its committed output records the same job, pearl version,
// parameters and inputs (the same shard files, each with the same size and either the
// same mtime or the same content checksum) as it would now, and no step upstream runs.
//
//   for (const auto& d : pipeline::plan(p)) std::cout << d.step->name << (d.run ? " runs: " : " skipped: ") << d.reason;
#pragma once

#include <string>
#include <vector>

#include "pearl/cluster/pipeline.hpp"

namespace pearl::cluster::pipeline {

struct Decision {
  const Step* step = nullptr;
  const Task* task = nullptr;
  bool run = true;
  std::string reason;
};

/// Why `task` of `step` is out of date, or "" when its output is up to date (upstream
/// steps not considered).
std::string out_of_date(const Step& step, const Task& task);

/// One decision per task, steps in dependency order; a task runs when it is out of date
/// or a step it needs has a task that runs.
std::vector<Decision> plan(const Pipeline& p);

/// "ingest" or "outbreak[city]": a task's name in tables and run records.
std::string task_label(const Step& step, const Task& task);

}  // namespace pearl::cluster::pipeline
