#include "pearl/cluster/cli.hpp"

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <thread>

#include "pearl/cluster/plugin_loader.hpp"
#include "pearl/cluster/report.hpp"
#include "pearl/cluster/runner.hpp"
#include "pearl/cluster/submit_command.hpp"
#include "pearl/cluster/stats.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/inspect.hpp"
#include "pearl/io/output_set.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"
#include "pearl/core/memory.hpp"

#ifndef PEARL_VERSION
#define PEARL_VERSION "unknown"
#endif

namespace pearl::cluster {
namespace {

const char* const usage_text =
    "usage: pearl [--help] [--version] [--plugin LIB.so]... <command> [<args>]\n"
    "\n"
    "commands:\n"
    "  jobs              list the jobs this build knows (built in and from plugins)\n"
    "  describe JOB      a job's inputs (columns and types), options with defaults, outputs\n"
    "  inspect FILE...   tables in HDF5 shards: layout, columns, types, rows, storage\n"
    "  run JOB [opts]    run a job (under mpirun/srun on any number of ranks, or alone)\n"
    "                    'pearl run JOB --help' lists the job's options\n"
    "  pipeline CMD FILE check, run, submit, status, report or schedule a pipeline\n"
    "                    ('pearl pipeline --help'; docs/pipelines.md)\n"
    "  submit [opts] JOB [job opts]\n"
    "                    check the job as 'run' would, then queue it as a batch job\n"
    "                    ('pearl submit --help'; docs/operations.md)\n"
    "  profiles [NAME]   site profiles for submit, and where each comes from\n"
    "  stats M.json [M2.json]  a run's metrics (OUT.metrics.json), or two runs compared;\n"
    "                    --project RANKS M1.json M2.json...: time and memory at more ranks\n"
    "  report OUT.h5 [-o PAGE.html]  one HTML page with the output's charts (and the run's)\n"
    "\n"
    "plugins: --plugin LIB.so (repeatable, anywhere on the line) and every *.so in the\n"
    "         colon-separated directories of PEARL_PLUGIN_PATH add out-of-tree jobs\n"
    "\n"
    "exit codes: 0 success, 1 failure, 2 usage or input error,\n"
    "            75 stopped by a signal after saving a checkpoint (run again with --resume)\n";

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

/// --threads' upper bound: 4 x the hardware threads (oversubscription beyond that only
/// costs memory: each thread has its own buffers and, in some jobs, arrays).
int max_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return 4 * static_cast<int>(hw == 0 ? 1 : hw);
}

po::options_description global_options(GlobalOptions& g) {
  po::options_description d("Global options");
  d.add_options()
      ("input", po::value(&g.inputs)->composing(),
       "input table NAME=GLOB[:/path/in/file] (path default /NAME); repeat for several tables")
      ("output", po::value(&g.output), "result file (HDF5), written atomically; never an input, never over an existing file")
      ("overwrite", po::bool_switch(&g.overwrite),
       "replace an existing --output (and --csv files): only regular files the user may write, never an input")
      ("output-mode", po::value(&g.output_mode)->default_value("0640")->value_name("OCTAL"),
       "permissions of the files written (--output, --csv), e.g. 0600; the umask does not apply")
      ("csv", po::value(&g.csv), "also write each output table as DIR/<table>.csv")
      ("hdf5-file-locking", po::value(&g.hdf5_locking)->default_value(true),
       "HDF5 file locking (false on parallel file systems without locks; HDF5_USE_FILE_LOCKING wins)")
      ("memory", po::value(&g.memory)->default_value("1GiB"),
       "memory budget per rank (e.g. 512MiB, 2GiB); data beyond it spills to --scratch")
      ("threads", in_range(&g.threads, 1, max_threads())->default_value(1),
       "map threads per rank (OpenMP); at most 4 x the hardware threads")
      ("scratch", po::value(&g.scratch)->default_value(""), "directory for spill files (default $TMPDIR, else /tmp)")
      ("config", po::value(&g.config),
       "options file: global options at the top, job options in a [JOB] section; the command line wins")
      ("resume", po::bool_switch(&g.resume),
       "continue from the checkpoint beside --output (OUT.checkpoint/); none there: start over and say so")
      ("checkpoint-every", po::value(&g.checkpoint_every)->default_value("5min"),
       "save finished operations to the checkpoint at most this often (0: at each one; off: never)")
      ("on-bad-row", po::value(&g.on_bad_row)->default_value("fail"),
       "a value outside its column's domain (age 0..120, sex, region code, UTF-8, ...): fail (exit 2 naming it) "
       "or skip (drop the row, count it, list it in the output's 'rejects' table)")
      ("verbose,v", po::bool_switch(&g.verbose), "progress and timings on stderr (progress from every rank)")
      ("quiet,q", po::bool_switch(&g.quiet), "no progress lines (errors only)")
      ("progress-every", at_least(&g.progress_every, 0.0)->default_value(30),
       "seconds between progress lines when stderr is not a terminal (0: none)")
      ("metrics", po::value(&g.metrics),
       "write the run's metrics (JSON) here; default OUT.metrics.json beside --output")
      ("help,h", po::bool_switch(&g.help), "show this job's options");
  return d;
}

std::vector<std::string> long_names(const po::options_description& d) {
  std::vector<std::string> names;
  for (const auto& o : d.options()) names.push_back(o->long_name());
  return names;
}

InputError unknown_option_error(const std::string& raw, const po::options_description& d, const std::string& where) {
  std::string name = raw;
  while (!name.empty() && name.front() == '-') name.erase(0, 1);
  std::string message = "unknown option '" + raw + "'" + where;
  const std::string guess = closest_match(name, long_names(d));
  if (!guess.empty()) message += "; did you mean '--" + guess + "'?";
  return InputError(message + " (see 'pearl run JOB --help')");
}

/// Options from the config file as command-line tokens: top-level keys and the [JOB]
/// section; other jobs' sections are ignored so one file can serve a whole pipeline.
std::vector<std::string> config_tokens(const std::string& file, const std::string& job, const po::options_description& all) {
  std::ifstream in(file);
  if (!in) throw InputError("cannot read config file '" + file + "'");
  po::options_description none;
  po::parsed_options parsed(&none);
  try {
    parsed = po::parse_config_file(in, none, /*allow_unregistered=*/true);
  } catch (const po::error& e) {
    throw InputError("config file '" + file + "': " + option_error_text(e));
  }
  std::vector<std::string> tokens;
  for (const auto& o : parsed.options) {
    std::string key = o.string_key;
    if (key.rfind(job + ".", 0) == 0) {
      key = key.substr(job.size() + 1);
    } else if (key.find('.') != std::string::npos) {
      continue;  // another job's section
    }
    // An empty key (" = 1") matches every option as a prefix: Boost throws "ambiguous"
    // (found by tests/fuzz, config_file).
    if (key.empty()) throw InputError("config file '" + file + "': an option without a name");
    const auto* known = all.find_nothrow(key, /*approx=*/false);
    if (known == nullptr) throw unknown_option_error(key, all, " in config file '" + file + "'");
    if (known->semantic()->max_tokens() == 0) {  // a switch: "verbose = true"
      if (!o.value.empty() && (o.value[0] == "true" || o.value[0] == "1" || o.value[0] == "yes")) tokens.push_back("--" + key);
      continue;
    }
    tokens.push_back("--" + key);
    for (const auto& v : o.value) tokens.push_back(v);
  }
  return tokens;
}

void store_tokens(const std::vector<std::string>& tokens, const po::options_description& all, po::variables_map& vm,
                  const std::string& where) {
  try {
    const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    auto parsed = po::command_line_parser(tokens).options(all).style(style).run();
    for (const auto& o : parsed.options) {
      if (o.position_key >= 0) throw InputError("unexpected argument '" + o.value.front() + "'" + where);
    }
    po::store(parsed, vm);
  } catch (const po::unknown_option& e) {
    throw unknown_option_error(e.get_option_name(), all, where);
  } catch (const po::error& e) {
    throw InputError(option_error_text(e) + where);
  }
}

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

void list_jobs(std::ostream& out) {
  const auto jobs = JobRegistry::instance().list();
  std::size_t width = 0;
  for (const auto* e : jobs) width = std::max(width, e->name.size());
  for (const auto* e : jobs) {
    out << "  " << std::left << std::setw(static_cast<int>(width) + 2) << e->name << e->summary;
    if (e->origin != "built-in") out << "  [plugin " << e->origin << "]";
    out << '\n';
  }
}

std::string columns_text(const std::vector<ColumnSpec>& columns, const std::string& indent) {
  std::size_t width = 0;
  for (const auto& c : columns) width = std::max(width, c.name.size());
  std::ostringstream s;
  for (const auto& c : columns) {
    s << indent << std::left << std::setw(static_cast<int>(width) + 2) << c.name << dtype_name(c.type) << '\n';
  }
  return s.str();
}

/// `pearl describe JOB`: everything the job declares, rendered from its JobSpec.
void describe_job(const std::string& name, std::ostream& out) {
  const auto& entry = find_job(name);
  auto job = entry.make();
  JobSpec spec(entry.name);
  job->declare(spec);
  out << entry.name << ": " << entry.summary << '\n';
  if (entry.origin != "built-in") out << "from plugin " << entry.origin << '\n';
  out << "\ninputs:";
  if (spec.inputs().empty()) out << " none";
  out << '\n';
  for (const auto& in : spec.inputs()) {
    out << "  " << in.name << (in.required ? " (required)" : " (optional)") << ": " << in.description
        << "\n    --input " << in.name << "=GLOB[:/path]\n";
    if (in.columns.empty()) {
      out << "    columns: chosen by the options\n";
    } else {
      out << "    columns read (stored types must convert to these without loss):\n"
          << columns_text(in.columns, "      ");
    }
  }
  out << '\n' << spec.options();
  if (spec.options().options().empty()) out << "  (none)\n";
  out << "\noutputs:";
  if (!spec.has_output()) out << " none (results are printed)";
  out << '\n';
  if (spec.has_output()) out << "  --output FILE.h5 (required); --csv DIR for CSV copies\n";
  if (spec.has_output() && spec.outputs().empty()) out << "  tables and columns: chosen by the options\n";
  for (const auto& o : spec.outputs()) {
    out << "  table " << o.name << ": " << o.description << '\n';
    if (o.columns.empty()) out << "    columns: chosen by the options\n";
    else out << columns_text(o.columns, "    ");
  }
}

/// Takes every `--plugin PATH` / `--plugin=PATH` out of the command line. Plugins are
/// loaded before anything else because the job named on the line may come from one.
std::vector<std::string> take_plugin_args(std::vector<std::string>& args) {
  std::vector<std::string> plugins;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--plugin") {
      if (i + 1 == args.size()) throw InputError("--plugin needs a library path (--plugin LIB.so)");
      plugins.push_back(args[++i]);
    } else if (args[i].rfind("--plugin=", 0) == 0) {
      plugins.push_back(args[i].substr(9));
    } else {
      rest.push_back(args[i]);
    }
  }
  args = std::move(rest);
  return plugins;
}

}  // namespace

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

namespace {

/// `pearl run JOB ...` on every rank: parse, then the runner's stages.
int run_job(const std::vector<std::string>& args, Communicator& comm, std::ostream& out) {
  RunCommand cmd = parse_run(args);
  if (!cmd.help.empty()) {
    out << cmd.help;
    return 0;
  }
  io::init_hdf5(cmd.hdf5_locking);
  cluster::run_job(*cmd.job, *cmd.spec, cmd.settings, comm, out);
  return 0;
}

/// A command only rank 0 carries out (reading files, printing); the others wait to learn
/// whether it failed.
template <class Work>
int agreed_on_rank0(Communicator& comm, Work&& work) {
  agreed(comm, [&] {
    if (comm.rank() == 0) work();
  });
  return 0;
}

int dispatch(std::vector<std::string> args, Communicator& comm, std::ostream& out, std::ostream& err) {
  const std::vector<std::string> plugins = take_plugin_args(args);
  // Every rank loads the plugins (each runs their jobs); rank 0 alone says so when one
  // library was named twice (err is a sink on the other ranks).
  for (const auto& note : load_plugins(plugins, std::getenv("PEARL_PLUGIN_PATH"))) err << "pearl: note: " << note << '\n';
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    out << usage_text;
    if (args.empty()) throw InputError("no command given");
    return 0;
  }
  if (args[0] == "--version") {
    out << "pearl " << PEARL_VERSION << '\n';
    return 0;
  }
  if (args[0] == "jobs") {
    list_jobs(out);
    return 0;
  }
  if (args[0] == "describe") {
    if (args.size() != 2) throw InputError("'pearl describe' needs one job name ('pearl jobs' lists them)");
    describe_job(args[1], out);
    return 0;
  }
  if (args[0] == "run") return run_job({args.begin() + 1, args.end()}, comm, out);
  if (args[0] == "submit") return submit_command({args.begin() + 1, args.end()}, plugins, comm, out);
  if (args[0] == "profiles") return profiles_command({args.begin() + 1, args.end()}, out);
  if (args[0] == "pipeline") return pipeline_command({args.begin() + 1, args.end()}, comm, out);
  if (args[0] == "inspect") {
    if (args.size() < 2) throw InputError("'pearl inspect' needs one or more HDF5 files");
    io::init_hdf5();
    agreed(comm, [&] {
      if (comm.rank() == 0) io::inspect({args.begin() + 1, args.end()}, out);
    });
    return 0;
  }
  if (args[0] == "report") {
    io::init_hdf5();
    return agreed_on_rank0(comm, [&] { report_command({args.begin() + 1, args.end()}, out); });
  }
  if (args[0] == "stats") return agreed_on_rank0(comm, [&] { stats_command({args.begin() + 1, args.end()}, out); });
  std::string message = "unknown command '" + args[0] + "'";
  const std::string guess = closest_match(
      args[0], {"jobs", "describe", "run", "pipeline", "submit", "profiles", "inspect", "stats", "report", "--help", "--version"});
  if (!guess.empty()) message += "; did you mean '" + guess + "'?";
  throw InputError(message + " ('pearl --help' lists the commands)");
}

}  // namespace

int run_cli(const std::vector<std::string>& args, Communicator& comm, std::ostream& out, std::ostream& err) {
  std::ostringstream discard;
  std::ostream& my_out = comm.rank() == 0 ? out : discard;
  std::ostream& my_err = comm.rank() == 0 ? err : discard;
  std::exception_ptr failure;
  int code = 0;
  try {
    code = dispatch(args, comm, my_out, my_err);
  } catch (...) {
    failure = std::current_exception();
  }
  // A rank whose failure was not agreed yet (it threw outside any agreement) joins the
  // agreement the others make before their next collective, or at the end of the job,
  // so every rank leaves with the same error and code. A failure that was agreed where
  // it happened is known to every rank already: agreeing again would wait for ranks
  // that are leaving (each side would make a different number of agreements).
  try {
    if (failure && comm.failure_agreed()) std::rethrow_exception(failure);
    agree_on_failure(comm, failure);
    return code;
  } catch (const RemoteError& e) {
    // The rank is named once: a message that already starts with it keeps its own.
    const std::string rank = "rank " + std::to_string(e.failed_rank()) + ": ";
    const std::string_view message = e.what();
    if (comm.rank() == 0) err << "pearl: error: " << (message.starts_with(rank) ? "" : rank) << message << '\n';
    return static_cast<int>(e.exit_code());
  } catch (const Error& e) {
    if (comm.rank() == 0) err << "pearl: error: " << e.what() << '\n';
    return static_cast<int>(e.exit_code());
  } catch (const po::error& e) {
    if (comm.rank() == 0) err << "pearl: error: " << option_error_text(e) << '\n';
    return static_cast<int>(ExitCode::usage_or_input);
  } catch (const std::exception& e) {
    if (comm.rank() == 0) err << "pearl: error: " << e.what() << '\n';
    return static_cast<int>(ExitCode::failure);
  }
}

}  // namespace pearl::cluster
