// The `pearl` command line: the usage text, the commands that describe the build (jobs,
// describe), plugin arguments, and the dispatch of every command with one agreed exit.
// `pearl run`'s parsing is in run_command.cpp and run_options.cpp.
#include "pearl/cluster/cli.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "cli_parts.hpp"
#include "pearl/cluster/plugin_loader.hpp"
#include "pearl/cluster/report.hpp"
#include "pearl/cluster/runner.hpp"
#include "pearl/cluster/submit_command.hpp"
#include "pearl/cluster/stats.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/inspect.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"

#ifndef PEARL_VERSION
#define PEARL_VERSION "unknown"
#endif

namespace pearl::cluster {
namespace {

const char* const kUsageText =
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
  out << '\n' << job_options_text(spec);
  if (spec.options().empty()) out << "  (none)\n";
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
    out << kUsageText;
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
