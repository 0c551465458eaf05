// Renders a BatchRequest into the batch script template (slurm/batch.sh.in).
#include "batch_script.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "pearl/core/error.hpp"

namespace pearl::cluster {

namespace fs = std::filesystem;

namespace {

std::string self_executable() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("pearl") : exe.string();
}

std::string join(const std::vector<std::string>& words, const std::string& sep) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : sep) + w;
  return out;
}

/// An argument of the job's command line; "{task}" becomes this array task's value.
std::string argument_word(const std::string& arg) {
  static const std::string marker = "{task}";
  std::string out;
  std::size_t from = 0;
  for (std::size_t at; (at = arg.find(marker, from)) != std::string::npos; from = at + marker.size()) {
    if (at > from) out += shell_quote(arg.substr(from, at - from));
    out += "\"${task_value}\"";
  }
  if (from < arg.size() || out.empty()) out += shell_quote(arg.substr(from));
  return out;
}

bool has_option(const std::vector<std::string>& command, const std::string& name) {
  for (const auto& a : command) {
    if (a == name || a.rfind(name + "=", 0) == 0) return true;
  }
  return false;
}

std::string replace_all(std::string text, const std::string& key, const std::string& value) {
  for (std::size_t at = 0; (at = text.find(key, at)) != std::string::npos; at += value.size()) {
    text.replace(at, key.size(), value);
  }
  return text;
}

std::string read_template() {
  const fs::path path = share_dir() / "batch.sh.in";
  std::ifstream in(path);
  if (!in) throw Error("cannot read the batch script template " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string shell_quote(const std::string& s) {
  static const std::regex safe("[A-Za-z0-9_./:=,+@%^-]+");
  if (std::regex_match(s, safe)) return s;
  return "'" + replace_all(s, "'", "'\\''") + "'";
}

BatchRequest resolve(const BatchRequest& in) {
  BatchRequest r = in;
  const Profile& p = r.profile;
  if (r.nodes < 1) throw InputError("--nodes " + std::to_string(r.nodes) + ": must be at least 1");
  if (r.cpus_per_task < 1) throw InputError("--cpus-per-task " + std::to_string(r.cpus_per_task) + ": must be at least 1");
  if (r.ntasks_per_node < 0) throw InputError("--ntasks-per-node " + std::to_string(r.ntasks_per_node) + ": must be at least 1");
  if (r.max_requeue < 0) throw InputError("--max-requeue " + std::to_string(r.max_requeue) + ": must be 0 or more");
  if (r.retries < 0) throw InputError("--retries " + std::to_string(r.retries) + ": must be 0 or more");
  if (r.ntasks_per_node == 0) r.ntasks_per_node = p.cores_per_node >= r.cpus_per_task ? p.cores_per_node / r.cpus_per_task : 1;
  if (r.time.empty()) r.time = p.time;
  if (parse_slurm_time(r.time) <= 0) {
    throw InputError("--time " + r.time + ": expected a Slurm time limit (HH:MM:SS, D-HH:MM:SS or minutes)");
  }
  if (r.partition.empty()) r.partition = p.partition;
  if (r.partition.empty() && p.partition_required) {
    throw InputError("profile " + p.name + " needs --partition (the site refuses jobs without " + p.partition_flag + ")");
  }
  if (r.account.empty()) r.account = p.account;
  if (r.job_name.empty()) r.job_name = "pearl";
  if (!std::regex_match(r.job_name, std::regex("[A-Za-z0-9_.+-]+"))) {
    throw InputError("--job-name '" + r.job_name + "': use letters, digits and . _ + - only");
  }
  if (r.log_dir.empty()) r.log_dir = p.log_dir;
  r.log_dir = fs::absolute(r.log_dir).lexically_normal().string();
  r.workdir = fs::absolute(r.workdir.empty() ? fs::current_path() : fs::path(r.workdir)).lexically_normal().string();
  if (r.pearl_program.empty()) r.pearl_program = self_executable();
  if (r.array.empty() && !r.array_values.empty()) r.array = "0-" + std::to_string(r.array_values.size() - 1);
  if (r.command.empty()) throw InputError("'pearl submit' needs a job name ('pearl jobs' lists them)");
  if (r.cpus_per_task > 1 && !has_option(r.command, "--threads")) {
    r.command.push_back("--threads");
    r.command.push_back(std::to_string(r.cpus_per_task));
  }
  return r;
}

std::string script_path(const BatchRequest& r) { return r.log_dir + "/" + r.job_name + ".sbatch"; }

std::string log_pattern(const BatchRequest& r) {
  return r.log_dir + "/" + r.job_name + (r.array.empty() ? "-%j" : "-%A_%a") + ".log";
}

std::vector<std::string> sbatch_lines(const BatchRequest& r) {
  const Profile& p = r.profile;
  std::vector<std::string> l;
  auto add = [&](const std::string& why, const std::string& line) {
    l.push_back("# " + why);
    l.push_back("#SBATCH " + line);
  };
  add("name in the queue", "--job-name=" + r.job_name);
  add("nodes, MPI ranks per node, cores per rank (OpenMP threads)",
      "--nodes=" + std::to_string(r.nodes));
  l.push_back("#SBATCH --ntasks-per-node=" + std::to_string(r.ntasks_per_node));
  l.push_back("#SBATCH --cpus-per-task=" + std::to_string(r.cpus_per_task));
  if (p.exclusive) add("whole nodes (the site bills or requires them)", "--exclusive");
  add("time limit", "--time=" + r.time);
  if (!r.partition.empty()) {
    add("partition", p.partition_flag == "-p" ? "-p " + r.partition : "--partition=" + r.partition);
  }
  if (!r.account.empty()) add("account charged", "--account=" + r.account);
  add("log: stdout and stderr together, appended to by requeued runs", "--output=" + log_pattern(r));
  l.push_back("#SBATCH --open-mode=append");
  add("warning signal to this script (B:) " + std::to_string(p.signal_seconds) +
          " s before the time limit; Slurm may send it up to 60 s earlier",
      "--signal=B:" + p.signal + "@" + std::to_string(p.signal_seconds));
  add("may be requeued (after a checkpoint at the time limit, or a node failure)", "--requeue");
  if (!r.dependencies.empty()) add("start once these jobs succeeded", "--dependency=afterok:" + join(r.dependencies, ":"));
  if (!r.array.empty()) add("array of tasks (SLURM_ARRAY_TASK_ID)", "--array=" + r.array);
  if (!r.begin.empty()) add("do not start before", "--begin=" + r.begin);
  return l;
}

std::string render_script(const BatchRequest& r, const std::vector<std::string>& allocation,
                          const std::string& submit_command) {
  const Profile& p = r.profile;
  std::string setup = p.setup.empty() ? "# (none)" : join(p.setup, "\n");
  std::vector<std::string> env;
  for (const auto& [name, value] : p.environment) env.push_back("export " + name + "=" + shell_quote(value));
  for (const auto& [name, value] : r.environment) env.push_back("export " + name + "=" + shell_quote(value));
  std::vector<std::string> words;  // pearl [global args] run JOB [options]
  for (const auto& a : r.pearl_args) words.push_back(shell_quote(a));
  words.push_back("run");
  for (const auto& a : r.command) words.push_back(argument_word(a));
  std::string array;
  if (!r.array.empty()) {
    array = "# Array task: its value replaces {task} in the arguments.\n";
    if (r.array_values.empty()) {
      array += "task_value=${SLURM_ARRAY_TASK_ID:-0}\n";
    } else {
      std::vector<std::string> values;
      for (const auto& v : r.array_values) values.push_back(shell_quote(v));
      array += "values=(" + join(values, " ") + ")\ntask_value=${values[${SLURM_ARRAY_TASK_ID:-0}]}\n";
    }
  }
  std::vector<std::string> launcher_args;
  for (const auto& a : p.launcher_args) launcher_args.push_back(shell_quote(a));
  if (p.scheduler == "none") {  // no allocation to read the rank count from
    launcher_args.insert(launcher_args.begin(), {"-np", std::to_string(r.nodes * r.ntasks_per_node)});
  }
  std::string text = read_template();
  text = replace_all(text, "@SBATCH@", join(allocation, "\n"));
  text = replace_all(text, "@SETUP@", setup);
  text = replace_all(text, "@ENVIRONMENT@", env.empty() ? "# (none)" : join(env, "\n"));
  text = replace_all(text, "@ARRAY@", array);
  text = replace_all(text, "@ARGS@", join(words, " "));
  text = replace_all(text, "@LAUNCHERS@", join(p.launcher, " "));
  if (launcher_args.empty()) text = replace_all(text, "launcher+=(@LAUNCHER_ARGS@)\n", "");
  text = replace_all(text, "@LAUNCHER_ARGS@", join(launcher_args, " "));
  text = replace_all(text, "@CONTROL@", join(p.control, " "));
  text = replace_all(text, "@JOB_NAME@", r.job_name);
  text = replace_all(text, "@JOB@", r.command.front());
  text = replace_all(text, "@PROFILE@", p.name);
  text = replace_all(text, "@SUBMIT@", submit_command);
  text = replace_all(text, "@SCRIPT@", shell_quote(script_path(r)));
  text = replace_all(text, "@SIGNAL@", p.signal);
  text = replace_all(text, "@MAX_REQUEUE@", std::to_string(r.max_requeue));
  text = replace_all(text, "@RETRIES@", std::to_string(r.retries));
  text = replace_all(text, "@LOG_DIR@", shell_quote(r.log_dir));
  text = replace_all(text, "@CPUS_PER_TASK@", std::to_string(r.cpus_per_task));
  text = replace_all(text, "@WORKDIR@", shell_quote(r.workdir));
  text = replace_all(text, "@PEARL@", shell_quote(r.pearl_program));
  return text;
}

}  // namespace pearl::cluster
