// run_checks.hpp (internal) — the runner's checks (run_checks.cpp), used by its stages
// in runner.cpp and by check_job (`pearl submit`, pipeline checks):
//
//   check_stage(spec, settings, comm, job.name());                 // stage 1: usage
//   auto inputs = inputs_stage(spec, settings, comm, engine);      // stage 2: inputs
//   io::OutputSet outputs(output_policy(settings, inputs.get()));
//   temp = reserve_outputs(outputs, spec, settings);               // rank 0
//   check_outputs(spec, ctx.outputs(), job.name());                // after the job ran
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pearl/cluster/runner.hpp"
#include "pearl/cluster/shard_inputs.hpp"
#include "pearl/io/output_set.hpp"

namespace pearl::cluster {

/// Stage 1, collective: what the job declared is on the command line, the output and
/// --csv directories are writable, each rank's scratch directory is usable (scratch of
/// dead runs on its host removed); before any file is opened.
void check_stage(const JobSpec& spec, const RunSettings& settings, Communicator& comm, const std::string& job);

/// What an output may not be: the run's inputs, and (without --overwrite) an existing file.
io::OutputPolicy output_policy(const RunSettings& settings, const ShardInputs* inputs);

/// Stage 2, collective: catalogue every --input, then check the declared columns in every
/// shard before any work: a missing column or one that does not convert is one input
/// error now, not a failure halfway through. nullptr when the job has no --input.
std::unique_ptr<ShardInputs> inputs_stage(const JobSpec& spec, const RunSettings& settings, Communicator& comm,
                                          const Engine& engine);

/// Stage 2, rank 0: the outputs checked against the inputs and reserved; temporaries of
/// dead runs in the output directories removed. Returns the HDF5 temporary ("" if none).
std::string reserve_outputs(io::OutputSet& outputs, const JobSpec& spec, const RunSettings& settings);

/// After run: the tables the job wrote are the ones it declared, with the declared
/// columns (a job bug, so Error and exit 1). Jobs declaring no tables are not checked.
void check_outputs(const JobSpec& spec, const std::vector<OutputTable>& parts, const std::string& job);

}  // namespace pearl::cluster
