// `pearl submit` and `pearl profiles`: a job checked as `pearl run` would, then queued.
#include "pearl/cluster/submit_command.hpp"

#include <filesystem>
#include <iomanip>
#include <ostream>

#include "option_values.hpp"
#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/profile.hpp"
#include "pearl/cluster/runner.hpp"
#include "pearl/cluster/scheduler.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/hdf5.hpp"

namespace pearl::cluster {

namespace {

const char* const kSubmitUsage =
    "usage: pearl submit [submit options] JOB [job options]\n"
    "\n"
    "Checks the job as 'pearl run' would (job, options, inputs, columns, output directory),\n"
    "then writes a batch script to LOGDIR/NAME.sbatch and queues it. Exit 2 and nothing\n"
    "queued if the check fails.\n";

struct SubmitOptions {
  std::string profile = "slurm";
  bool dry_run = false;
  bool wait = false;
  bool help = false;
};

po::options_description submit_options(SubmitOptions& s, BatchRequest& r) {
  po::options_description d("Submit options");
  d.add_options()
      ("profile", po::value(&s.profile)->default_value(s.profile),
       "site profile: a name ('pearl profiles' lists them) or a file")
      ("nodes", po::value(&r.nodes)->default_value(1), "nodes")
      ("ntasks-per-node", po::value(&r.ntasks_per_node), "MPI ranks per node (default: the profile's cores per node / cpus per task, else 1)")
      ("cpus-per-task", po::value(&r.cpus_per_task)->default_value(1), "cores per rank: OMP_NUM_THREADS and --threads")
      ("time", po::value(&r.time), "time limit (HH:MM:SS, D-HH:MM:SS or minutes; default the profile's)")
      ("partition", po::value(&r.partition), "partition (default the profile's)")
      ("account", po::value(&r.account), "account to charge")
      ("job-name", po::value(&r.job_name), "name in the queue, of the script and the log (default the job's)")
      ("log-dir", po::value(&r.log_dir), "directory of the script and the log (default the profile's, 'logs')")
      ("max-requeue", po::value(&r.max_requeue)->default_value(3), "requeues after a time-limit checkpoint (exit 75)")
      ("retries", po::value(&r.retries)->default_value(0), "requeues after a failure (exit 1, a crash; never exit 2)")
      ("dry-run", po::bool_switch(&s.dry_run), "print the batch script; queue nothing")
      ("wait", po::bool_switch(&s.wait), "wait for the job to end; print its state and log; exit with its exit code")
      ("help,h", po::bool_switch(&s.help), "this help");
  return d;
}

/// Submit options come before the job name: the first word that is not an option or an
/// option's value. Returns its index (args.size() if none).
std::size_t job_position(const std::vector<std::string>& args, const po::options_description& d) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind('-', 0) != 0) return i;
    if (a.find('=') != std::string::npos) continue;
    const auto* o = d.find_nothrow(a.substr(a.find_first_not_of('-')), false);
    if (o != nullptr && o->semantic()->max_tokens() > 0) ++i;  // its value
  }
  return args.size();
}

void parse_submit_options(const std::vector<std::string>& tokens, const po::options_description& d) {
  std::vector<std::string> names;
  for (const auto& o : d.options()) names.push_back(o->long_name());
  po::variables_map vm;
  try {
    const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(tokens).options(d).style(style).run(), vm);
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    std::string name = e.get_option_name();
    std::string message = "unknown submit option '" + name + "'";
    while (!name.empty() && name.front() == '-') name.erase(0, 1);
    const std::string guess = closest_match(name, names);
    if (!guess.empty()) message += "; did you mean '--" + guess + "'?";
    throw InputError(message + " (see 'pearl submit --help'; job options go after the job name)");
  } catch (const po::error& e) {
    throw InputError(option_error_text(e) + " (see 'pearl submit --help')");
  }
}

std::string join(const std::vector<std::string>& w) {
  std::string out;
  for (const auto& x : w) out += (out.empty() ? "" : " ") + x;
  return out;
}

}  // namespace

int submit_command(const std::vector<std::string>& args, const std::vector<std::string>& plugins,
                   Communicator& comm, std::ostream& out) {
  SubmitOptions s;
  BatchRequest r;
  r.job_name.clear();
  const po::options_description d = submit_options(s, r);
  const std::size_t at = job_position(args, d);
  parse_submit_options({args.begin(), args.begin() + static_cast<std::ptrdiff_t>(at)}, d);
  if (s.help) {
    out << kSubmitUsage << '\n' << d;
    return 0;
  }
  if (comm.size() > 1) throw InputError("run 'pearl submit' on its own, not under mpirun or srun");
  r.profile = load_profile(s.profile);
  r.command.assign(args.begin() + static_cast<std::ptrdiff_t>(at), args.end());
  if (r.command.empty()) throw InputError("'pearl submit' needs a job name ('pearl jobs' lists them; 'pearl submit --help')");

  // The whole job command, as `pearl run` would check it: same parser, same stages 1-2.
  RunCommand run = parse_run(r.command);
  if (!run.help.empty()) {
    out << run.help;
    return 0;
  }
  io::init_hdf5(run.hdf5_locking);
  run.settings.engine.verbose = false;  // the check's progress lines would read as the job's
  check_job(*run.job, *run.spec, run.settings, comm);

  if (r.job_name.empty()) r.job_name = run.job->name();
  for (const auto& p : plugins) {
    r.pearl_args.push_back("--plugin");
    r.pearl_args.push_back(std::filesystem::absolute(p).string());
  }
  auto scheduler = make_scheduler(r.profile);
  if (s.dry_run) {
    out << scheduler->render(r);
    return 0;
  }
  const std::string id = scheduler->submit(r);
  const std::string log = scheduler->log_path(r, id);
  out << "submitted job " << id << " (profile " << r.profile.name << "); log: " << log << std::endl;
  if (!s.wait) return 0;
  const JobStatus st = scheduler->wait(id);
  out << "job " << id << " " << st.state_text << ", exit code " << st.exit_code;
  if (st.restarts > 0) out << ", requeued " << st.restarts << " times";
  out << "; log: " << log << std::endl;
  if (st.exit_code > 0) return std::min(st.exit_code, 255);
  return st.state == JobState::completed ? 0 : 1;
}

int profiles_command(const std::vector<std::string>& args, std::ostream& out) {
  if (args.empty()) {
    const auto all = list_profiles();
    std::size_t width = 0;
    for (const auto& [name, path] : all) width = std::max(width, name.size());
    for (const auto& [name, path] : all) {
      const Profile p = load_profile(name);
      out << "  " << std::left << std::setw(static_cast<int>(width) + 2) << name << p.description << "\n"
          << "  " << std::setw(static_cast<int>(width) + 2) << "" << "from " << path.string() << '\n';
    }
    return 0;
  }
  if (args.size() != 1) throw InputError("'pearl profiles' takes at most one profile name or file");
  const Profile p = load_profile(args[0]);
  out << "profile " << args[0] << ": " << p.description << "\nfiles:";
  for (const auto& f : p.files) out << ' ' << f;
  out << '\n';
  auto field = [&](const std::string& key, const std::string& value) {
    out << "  " << std::left << std::setw(20) << key << std::setw(40) << value << "  # " << p.origin_of(key) << '\n';
  };
  field("scheduler", p.scheduler);
  field("submit", join(p.submit));
  field("queue", join(p.queue));
  field("cancel", join(p.cancel));
  field("control", join(p.control));
  field("accounting", join(p.accounting));
  field("launcher", join(p.launcher));
  field("launcher-args", join(p.launcher_args));
  field("partition", p.partition);
  field("partition-required", p.partition_required ? "true" : "false");
  field("partition-flag", p.partition_flag);
  field("account", p.account);
  field("cores-per-node", std::to_string(p.cores_per_node));
  field("exclusive", p.exclusive ? "true" : "false");
  field("time", p.time);
  field("signal", p.signal);
  field("signal-seconds", std::to_string(p.signal_seconds));
  field("log-dir", p.log_dir);
  for (const auto& line : p.setup) field("setup", line);
  for (const auto& [name, value] : p.environment) {
    out << "  " << std::left << std::setw(20) << "env" << std::setw(40) << name + "=" + value << "  # "
        << p.origin_of("env " + name) << '\n';
  }
  return 0;
}

}  // namespace pearl::cluster
