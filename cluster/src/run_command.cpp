// parse_run: `pearl run JOB [options]` into the job, its declaration and the runner's
// settings (shared by `pearl run`, `pearl submit` and the pipeline checks).
#include <iomanip>
#include <sstream>

#include "cli_parts.hpp"
#include "pearl/cluster/cli.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/memory.hpp"
#include "pearl/io/output_set.hpp"

namespace pearl::cluster {
namespace {

/// The job's options with their effective values (given or default), for the output's
/// attributes: the record of how a result was produced.
std::string any_text(const boost::any& v) {
  if (const auto* x = boost::any_cast<std::string>(&v)) return *x;
  if (const auto* x = boost::any_cast<int>(&v)) return std::to_string(*x);
  if (const auto* x = boost::any_cast<long>(&v)) return std::to_string(*x);
  if (const auto* x = boost::any_cast<unsigned long>(&v)) return std::to_string(*x);
  if (const auto* x = boost::any_cast<unsigned>(&v)) return std::to_string(*x);
  if (const auto* x = boost::any_cast<bool>(&v)) return *x ? "true" : "false";
  if (const auto* x = boost::any_cast<double>(&v)) {
    std::ostringstream s;
    s << std::setprecision(17) << *x;
    return s.str();
  }
  if (const auto* x = boost::any_cast<std::vector<std::string>>(&v)) {
    std::string joined;
    for (const auto& e : *x) joined += (joined.empty() ? "" : ",") + e;
    return joined;
  }
  return "?";
}

std::vector<std::pair<std::string, std::string>> job_parameters(const po::options_description& d,
                                                                 const po::variables_map& vm) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& o : d.options()) {
    const auto it = vm.find(o->long_name());
    if (it != vm.end() && !it->second.empty()) out.emplace_back(o->long_name(), any_text(it->second.value()));
  }
  return out;
}

}  // namespace

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
  po::options_description all;
  all.add(cmd.spec->options()).add(global_options(g));

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
  settings.parameters = job_parameters(cmd.spec->options(), vm);
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
