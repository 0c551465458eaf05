// cli_parts.hpp (internal) — what the units of the `pearl` command line share:
// run_options.cpp (the global options of `pearl run` and --config files as tokens),
// run_command.cpp (parse_run) and cli.cpp (the commands and their dispatch).
//
//   GlobalOptions g;
//   po::options_description all;
//   all.add(job_options(spec)).add(global_options(g));
//   store_tokens(tokens, all, vm, "");
#pragma once

#include <string>
#include <vector>

#include "option_values.hpp"
#include "pearl/core/job.hpp"

namespace pearl::cluster {

/// The options every job takes (`pearl run JOB --help` lists them with the job's own).
struct GlobalOptions {
  std::vector<std::string> inputs;
  std::string output;
  bool overwrite = false;
  std::string output_mode;
  std::string csv;
  bool hdf5_locking = true;
  std::string memory;
  int threads = 1;
  std::string scratch;
  std::string config;
  bool verbose = false;
  bool quiet = false;
  double progress_every = 30;
  std::string metrics;
  bool help = false;
  bool resume = false;
  std::string checkpoint_every;
  std::string on_bad_row = "fail";
};

/// Binds the global options to `g`.
po::options_description global_options(GlobalOptions& g);

/// Options from the config file as command-line tokens: top-level keys and the [JOB]
/// section; other jobs' sections are ignored so one file can serve a whole pipeline.
std::vector<std::string> config_tokens(const std::string& file, const std::string& job, const po::options_description& all);

/// Parses `tokens` against `all` into `vm`; an unknown option or a stray argument is an
/// InputError (with a guess at the option meant), `where` is added to the message.
void store_tokens(const std::vector<std::string>& tokens, const po::options_description& all, po::variables_map& vm,
                  const std::string& where);

/// The registered job `name`; an unknown name is an InputError with a guess.
const JobRegistry::Entry& find_job(const std::string& name);

}  // namespace pearl::cluster
