// parse_run: `pearl run JOB [options]` into the job, its declaration and the runner's
// settings (shared by `pearl run`, `pearl submit` and the pipeline checks).
#include <sstream>

#include "cli_parts.hpp"
#include "pearl/cluster/cli.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/memory.hpp"
#include "pearl/io/output_set.hpp"

namespace pearl::cluster {

const JobRegistry::Entry& find_job(const std::string& name) {
  const auto* entry = JobRegistry::instance().find(name);
  if (entry != nullptr) return *entry;
  std::vector<std::string> names;
  for (const auto* e : JobRegistry::instance().list()) names.push_back(e->name);
  std::string message = "unknown job '" + name + "'";
  const std::string guess = closest_match(name, names);
  if (!guess.empty()) message += "; did you mean '" + guess + "'?";
  throw InputError(message + " ('pearl jobs' lists them)");
}

/// Parsing is deterministic, so every rank gets the same result (or the same usage error)
/// without talking.
RunCommand parse_run(const std::vector<std::string>& args) {
  if (args.empty()) throw InputError("'pearl run' needs a job name ('pearl jobs' lists them)");
  const auto& entry = find_job(args.front());
  RunCommand cmd;
  cmd.job = entry.make();
  cmd.spec = std::make_unique<JobSpec>(entry.name);
  cmd.job->declare(*cmd.spec);
  GlobalOptions g;
  const po::options_description job = job_options(*cmd.spec);
  po::options_description all;
  all.add(job).add(global_options(g));

  const std::vector<std::string> tokens(args.begin() + 1, args.end());
  po::variables_map vm;
  store_tokens(tokens, all, vm, "");
  if (vm.count("config") != 0) {
    const auto file = vm["config"].as<std::string>();
    store_tokens(config_tokens(file, entry.name, all), all, vm, " in config file '" + file + "'");
  }
  // --help wins over missing required options: notify (which checks them) comes after.
  if (vm.count("help") != 0 && vm["help"].as<bool>()) {
    std::ostringstream help;
    help << "pearl run " << entry.name << ": " << entry.summary << "\n\n" << all
         << "  --plugin LIB.so        load jobs from a plugin library first (repeatable;\n"
         << "                         also every *.so in the directories of $PEARL_PLUGIN_PATH)\n\n"
         << "'pearl describe " << entry.name << "' shows its inputs, columns and outputs.\n";
    cmd.help = help.str();
    return cmd;
  }
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    throw InputError(option_error_text(e));
  }

  RunSettings& settings = cmd.settings;
  settings.engine.memory.total = parse_bytes(g.memory);
  settings.engine.threads = g.threads;
  settings.engine.scratch = g.scratch;
  settings.engine.verbose = g.verbose;
  settings.inputs = g.inputs;
  settings.output = g.output;
  settings.overwrite = g.overwrite;
  settings.output_mode = io::parse_output_mode(g.output_mode);
  settings.csv_dir = g.csv;
  settings.parameters = job_parameters(job, vm);
  settings.on_bad_row = io::parse_bad_row_policy(g.on_bad_row);
  settings.metrics = g.metrics;
  settings.progress_every = g.progress_every;
  settings.quiet = g.quiet;
  settings.checkpoints.resume = g.resume;
  settings.checkpoints.every = parse_checkpoint_every(g.checkpoint_every);
  cmd.hdf5_locking = g.hdf5_locking;
  return cmd;
}

}  // namespace pearl::cluster
