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
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/communicator.hpp"

namespace pearl::cluster {

/// Runs the command line `args` (without the program name). Returns the exit code.
int run_cli(const std::vector<std::string>& args, Communicator& comm, std::ostream& out, std::ostream& err);

/// The parameters `pearl run JOB args...` would record in its output (the job's options,
/// given or default, in declared order), for `args` = {JOB, args...}. Throws the
/// InputError `pearl run` would give for an unknown job or a bad option.
std::vector<std::pair<std::string, std::string>> job_command_parameters(const std::vector<std::string>& args);

/// `pearl pipeline check|run|status ... FILE` (cluster/src/pipeline_cli.cpp); rank 0 acts.
int pipeline_command(const std::vector<std::string>& args, Communicator& comm, std::ostream& out);

/// The closest of `candidates` to `word` if it is close enough to be a likely typo, else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace pearl::cluster
