// `pearl pipeline ...`: the subcommand's arguments and dispatch. Rank 0 does the work
// (a pipeline starts its jobs as processes of their own); the other ranks, if any, wait.
#include <filesystem>
#include <map>
#include <ostream>
#include <utility>

#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/pipeline_plan.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/hdf5.hpp"
#include "pipeline_run.hpp"

namespace pearl::cluster {

namespace {

const char* const kPipelineUsage =
    "usage: pearl pipeline COMMAND [--set NAME=VALUE]... [options] FILE\n"
    "\n"
    "  check FILE                 validate steps, jobs, options, variables and the graph\n"
    "  run FILE [--dry-run]       run it here, step by step (no scheduler), skipping what is up to date\n"
    "  submit FILE [--profile P] [--dry-run] [--wait]\n"
    "                             submit the out-of-date steps as batch jobs (afterok, job arrays)\n"
    "  schedule FILE --at HH:MM [--profile P] [--crontab]\n"
    "                             submit it every day at HH:MM (a self-resubmitting batch job,\n"
    "                             or with --crontab the crontab line that does the same)\n"
    "  unschedule FILE [--profile P]  cancel that batch job\n"
    "  status FILE|RUN_DIR        one line per step; exit 0 only when every step is done or skipped\n"
    "  report FILE|RUN_DIR [-o PAGE]\n"
    "                             an HTML index of the run: every step's state, log and report\n"
    "                             (default RUN_DIR/index.html; 'run' writes it by itself)\n"
    "\n"
    "  --set NAME=VALUE           set a variable (${NAME} in the file); repeatable\n"
    "  --dry-run                  print the plan (what runs, what is skipped and why) and stop\n"
    "  --profile P                site profile for submit (default slurm; 'pearl profiles')\n"
    "  --wait                     submit: wait for every job, then report and exit as status does\n"
    "  -o, --output PAGE          report: where the index page goes (its step reports go beside it)\n"
    "\n"
    "Pipeline files: docs/pipelines.md; examples in slurm/pipelines/.\n";

struct PipelineArgs {
  std::string command, file, profile, at, page;
  std::vector<std::string> set_words;  // as given, for the scheduled command
  bool crontab = false;
  std::map<std::string, std::string> set;
  bool dry_run = false, wait = false;
};

PipelineArgs parse_args(const std::vector<std::string>& args) {
  PipelineArgs a;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& w = args[i];
    auto value = [&](const std::string& flag) {
      if (i + 1 >= args.size()) throw InputError("pearl pipeline: " + flag + " needs a value");
      return args[++i];
    };
    if (w == "--set") {
      const std::string kv = value(w);
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) throw InputError("pearl pipeline: --set needs NAME=VALUE, got '" + kv + "'");
      a.set[kv.substr(0, eq)] = kv.substr(eq + 1);
      a.set_words.push_back(kv);
    } else if (w == "--profile") {
      a.profile = value(w);
    } else if (w == "--dry-run") {
      a.dry_run = true;
    } else if (w == "--wait") {
      a.wait = true;
    } else if (w == "--at") {
      a.at = value(w);
    } else if (w == "-o" || w == "--output") {
      a.page = value(w);
    } else if (w == "--crontab") {
      a.crontab = true;
    } else if (!w.empty() && w[0] == '-') {
      throw InputError("pearl pipeline: unknown option '" + w + "' ('pearl pipeline --help')");
    } else if (a.command.empty()) {
      a.command = w;
    } else if (a.file.empty()) {
      a.file = w;
    } else {
      throw InputError("pearl pipeline: unexpected argument '" + w + "'");
    }
  }
  return a;
}

/// Loads and checks the pipeline; problems are one InputError (exit 2) listing them all.
pipeline::Pipeline load_checked(const PipelineArgs& a, Communicator* comm) {
  if (a.file.empty()) throw InputError("pearl pipeline " + a.command + " needs a pipeline FILE");
  auto p = pipeline::load(a.file, a.set);
  auto problems = p.problems;
  pipeline::check_jobs(p, problems, comm);
  if (!problems.empty()) {
    std::string text = pipeline::format(p, problems);
    text.pop_back();
    throw InputError(text);
  }
  return p;
}

/// The pipeline and run directory `status` and `report` read: FILE and its newest run,
/// or RUN_DIR and the pipeline file (with its variables) its run.txt names.
std::pair<pipeline::Pipeline, std::string> locate(const PipelineArgs& a) {
  if (a.file.empty()) throw InputError("pearl pipeline " + a.command + " needs a pipeline FILE or a run directory");
  std::error_code ec;
  if (std::filesystem::is_directory(a.file, ec)) {
    const pipeline::RunDir run(a.file);
    auto info = run.info();
    if (info.empty()) throw InputError(a.file + " is not a pipeline run directory (no run.txt)");
    std::map<std::string, std::string> vars = a.set;
    for (const auto& [k, v] : info) {
      if (k.rfind("var.", 0) == 0 && vars.count(k.substr(4)) == 0) vars[k.substr(4)] = v;
    }
    return {pipeline::load(info["pipeline"], vars), a.file};
  }
  auto p = pipeline::load(a.file, a.set);
  std::string latest = pipeline::RunDir::latest(p.runs);
  return {std::move(p), std::move(latest)};
}

int status(const PipelineArgs& a, std::ostream& out) {
  const auto [p, run_dir] = locate(a);
  if (run_dir.empty()) out << "no run recorded under " << p.runs << "; states from the outputs\n";
  return pipeline::print_status(&p, run_dir, out);
}

int report(const PipelineArgs& a, std::ostream& out) {
  const auto [p, run_dir] = locate(a);
  if (run_dir.empty() && a.page.empty()) {
    throw InputError("no run recorded under " + p.runs + ": give the index page's place with -o PAGE");
  }
  const std::string page = pipeline::write_index(p, run_dir, a.page);
  out << "wrote " << page << '\n';
  return 0;
}

int dispatch(const PipelineArgs& a, Communicator* comm, std::ostream& out) {
  if (a.command == "check") {
    const auto p = load_checked(a, comm);
    std::size_t tasks = 0;
    for (const auto& s : p.steps) tasks += s.tasks.size();
    out << p.file << ": " << p.steps.size() << " steps, " << tasks << " tasks: ok\n";
    return 0;
  }
  if (a.command == "run") {
    const auto p = load_checked(a, comm);
    if (a.dry_run) {
      pipeline::print_plan(p, out);
      return 0;
    }
    return pipeline::run_local(p, out);
  }
  if (a.command == "submit") {
    const auto p = load_checked(a, comm);
    return pipeline::submit_all(p, a.profile, a.dry_run, a.wait, out);
  }
  if (a.command == "status") return status(a, out);
  if (a.command == "report") return report(a, out);
  if (a.command == "schedule") {
    if (a.at.empty()) throw InputError("pearl pipeline schedule needs --at HH:MM");
    return pipeline::schedule(load_checked(a, comm), a.at, a.profile, a.set_words, a.crontab, out);
  }
  if (a.command == "unschedule") return pipeline::unschedule(pipeline::load(a.file, a.set), a.profile, out);
  std::string message = "pearl pipeline: unknown command '" + a.command + "'";
  const std::string guess = closest_match(a.command, {"check", "run", "submit", "status", "report", "schedule", "unschedule"});
  if (!guess.empty()) message += "; did you mean '" + guess + "'?";
  throw InputError(message + " ('pearl pipeline --help')");
}

}  // namespace

int pipeline_command(const std::vector<std::string>& args, Communicator& comm, std::ostream& out) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    out << kPipelineUsage;
    if (args.empty()) throw InputError("pearl pipeline needs a command");
    return 0;
  }
  const PipelineArgs a = parse_args(args);
  io::init_hdf5();
  int code = 0;
  agreed(comm, [&] {
    // The checks that read inputs are collective: alone, this process is the whole job.
    if (comm.rank() == 0) code = dispatch(a, comm.size() == 1 ? &comm : nullptr, out);
  });
  return code;
}

}  // namespace pearl::cluster
