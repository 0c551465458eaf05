// pearl/cluster/cli.hpp — the `pearl` command line, run collectively on every rank.
//
//   pearl --help | --version
//   pearl jobs
//   pearl run JOB [--memory 2GiB] [--threads N] [--scratch DIR] [--config FILE] [--verbose] [job options]
//
// Every rank parses the same arguments; only rank 0 prints. Errors end every rank with
// the same exit code (0 ok, 1 failure, 2 usage or input error) and one message.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "pearl/cluster/runner.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/job.hpp"

namespace pearl::cluster {

/// Runs the command line `args` (without the program name). Returns the exit code.
int run_cli(const std::vector<std::string>& args, Communicator& comm, std::ostream& out, std::ostream& err);

/// `pearl run JOB [options]` parsed (args without "run"): the job with its options bound,
/// its declaration and the runner's settings. Shared by `pearl run` and `pearl submit`,
/// so both refuse a command line with the same message. Local; throws InputError.
struct RunCommand {
  std::unique_ptr<Job> job;
  std::unique_ptr<JobSpec> spec;
  RunSettings settings;
  bool hdf5_locking = true;
  std::string help;  // non-empty when --help was given: the text to print, nothing to run
};
RunCommand parse_run(const std::vector<std::string>& args);

/// Parses `args` (job options only, e.g. {"--min-cell", "0"}) into the members `spec`'s
/// options are bound to, as `pearl run` does: defaults, domains, required options. A
/// refused value or a missing option is an InputError naming it. For tests of a job's
/// declaration.
void parse_job_options(const JobSpec& spec, const std::vector<std::string>& args);

/// The options part of `pearl run JOB --help` and `pearl describe JOB`: "JOB options:"
/// and one entry per declared option, domains and defaults shown (`--shards N>=1 (=4)`).
std::string job_options_text(const JobSpec& spec);

/// `pearl pipeline check|run|status|submit ... FILE` (cluster/src/pipeline_cli.cpp); rank 0 acts.
int pipeline_command(const std::vector<std::string>& args, Communicator& comm, std::ostream& out);

/// The closest of `candidates` to `word` if it is close enough to be a likely typo, else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace pearl::cluster
