// pearl/cluster/runner.hpp — drives one job through explicit stages on every rank.
//
//   1. check   declared inputs and output are given, no undeclared input; every rank's
//              scratch is a writable directory (dead runs' leftovers there are removed)
//   2. inputs  catalogue every --input (rank 0 opens the shards, all ranks learn them);
//              outputs: never an input or a non-regular file, never an existing file
//              without --overwrite; their private temporaries reserved (io::OutputSet)
//   3. run     the job's dataflow on the engine; with --on-bad-row skip, the rows set
//              aside while reading are gathered into a `rejects` table (bad_rows.hpp)
//   4. write   every rank's output parts into the temporaries: HDF5, then CSV copies
//   5. commit  every artefact renamed into place, only once all are complete and every
//              rank agreed (add an artefact with OutputSet::add before this stage)
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
#include "pearl/io/row_checks.hpp"

namespace pearl::cluster {

struct RunSettings {
  EngineOptions engine;
  std::vector<std::string> inputs;  // --input NAME=GLOB[:/path], repeated
  std::string output;               // --output FILE.h5
  bool overwrite = false;           // --overwrite: an existing output may be replaced
  unsigned output_mode = 0640;      // --output-mode: permissions of the files written
  std::string csv_dir;              // --csv DIR
  std::vector<std::pair<std::string, std::string>> parameters;  // the job's options, for the output's attributes
  std::string metrics;              // --metrics FILE; empty: beside --output (none without one)
  double progress_every = 30;       // --progress-every SECONDS (0: no plain lines)
  bool quiet = false;               // --quiet
  CheckpointSettings checkpoints;   // --resume, --checkpoint-every (run_checkpoint.hpp)
  io::BadRowPolicy on_bad_row = io::BadRowPolicy::fail;         // --on-bad-row
};

/// Collective. Stages 1 and 2 (check, inputs), then the job's run over inputs with no
/// rows, to check the columns its options choose: what `pearl submit` runs before
/// queueing, so a job refused here is refused with the message `pearl run` would give.
/// Throws InputError like run_job; writes nothing.
void check_job(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm);

/// Collective. Runs `job` (already declared into `spec` and parsed) with `settings`.
void run_job(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm, std::ostream& out);

}  // namespace pearl::cluster
