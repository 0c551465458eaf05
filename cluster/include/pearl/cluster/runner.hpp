// pearl/cluster/runner.hpp — drives one job through explicit stages on every rank.
//
//   1. check   declared inputs and output are given; the output directory exists
//   2. inputs  catalogue every --input (rank 0 opens the shards, all ranks learn them)
//   3. run     the job's dataflow on the engine
//   4. write   every rank's output parts into a temporary file beside the target
//   5. commit  rename onto the target once every rank agreed it succeeded; CSV copies
//
// From 1 to 5 a signal (signals.hpp) stops the run at its next agreement; after stage 2
// the run has a checkpoint beside its output (run_checkpoint.hpp) that the engine saves
// operation results into, removed once the output is committed.
//
// Each stage ends with the ranks agreeing on failure, and its state is small (settings,
// catalogues, output parts), so resuming at a stage boundary is a natural extension.
// RunMetrics records the stage boundaries; the run's metrics are gathered once at the end
// (after a failure too, once it is agreed) and written beside the output (run_metrics.hpp).
#pragma once

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "pearl/cluster/run_checkpoint.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/job.hpp"

namespace pearl::cluster {

struct RunSettings {
  EngineOptions engine;
  std::vector<std::string> inputs;  // --input NAME=GLOB[:/path], repeated
  std::string output;               // --output FILE.h5
  std::string csv_dir;              // --csv DIR
  std::vector<std::pair<std::string, std::string>> parameters;  // the job's options, for the output's attributes
  std::string metrics;              // --metrics FILE; empty: beside --output (none without one)
  double progress_every = 30;       // --progress-every SECONDS (0: no plain lines)
  bool quiet = false;               // --quiet
  CheckpointSettings checkpoints;   // --resume, --checkpoint-every (run_checkpoint.hpp)
};

/// Collective. Runs `job` (already declared into `spec` and parsed) with `settings`.
void run_job(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm, std::ostream& out);

}  // namespace pearl::cluster
