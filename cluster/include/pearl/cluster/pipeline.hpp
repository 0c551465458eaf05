// pearl/cluster/pipeline.hpp — a pipeline file: named steps (pearl jobs) with inputs,
// output, options, dependencies, resources, variables and fan-out; and its graph.
//
//   auto p = pipeline::load("slurm/pipelines/nightly-health.pipeline", {{"date", "2023-12-31"}});
//   pipeline::Problems problems = p.problems;      // parse errors, each with line and step
//   pipeline::check(p, problems);                  // jobs, options, graph, producers
//   for (const auto* step : p.order) ...           // dependencies first
//
// The format (docs/pipelines.md) is the INI syntax of pearl's --config files:
//   [pipeline]  name, runs (run directories)
//   [variables] name = value, used as ${name}; --set name=value overrides
//   [defaults]  nodes, tasks, cpus, time, partition, retries for every step
//   [step NAME] job, input (repeatable), output, options, after, for_each, resources
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/communicator.hpp"

namespace pearl::cluster::pipeline {

/// One thing wrong with a pipeline file, where it is.
struct Problem {
  int line = 0;      ///< 1-based line in the file (0: the file as a whole)
  std::string step;  ///< step name ("" outside a step)
  std::string message;
};
using Problems = std::vector<Problem>;

/// What a step asks of the scheduler; "" or 0 = the profile's default.
struct Resources {
  int nodes = 0;
  int tasks = 0;  ///< MPI ranks per node
  int cpus = 0;   ///< OpenMP threads per rank
  int array_limit = 0;  ///< fan-out: at most this many array tasks at once (0: no limit)
  std::string time, partition;
};

/// One run of a step's job: the step itself, or one value of its fan-out.
struct Task {
  std::string value;                ///< the fan-out value ("" without fan-out)
  std::vector<std::string> inputs;  ///< --input NAME=GLOB[:/path] values
  std::string output;               ///< --output file ("" for jobs without one)
  std::vector<std::string> options; ///< the job's other arguments, as words
  /// `pearl run` arguments: JOB, options, --input ..., --output ...
  [[nodiscard]] std::vector<std::string> run_args(const std::string& job) const;
};

struct Step {
  std::string name;
  int line = 0;  ///< of its [step NAME] header
  std::string job;
  std::map<std::string, int> lines;  ///< line of each key, for errors
  std::vector<int> input_lines;      ///< line of each `input =`, in order
  std::vector<std::string> after;    ///< explicit dependencies
  std::vector<std::string> needs;    ///< all dependencies (explicit and implied), filled by link()
  Resources resources;
  int retries = 1;
  std::string fan_name;             ///< for_each variable ("" without fan-out)
  std::vector<Task> tasks;          ///< one, or one per fan-out value
  Task array_task;                  ///< fan-out: the task with "{task}" for the value (job arrays)
  [[nodiscard]] int line_of(const std::string& key) const;
};

struct Pipeline {
  std::string file;  ///< as given
  std::string name;  ///< [pipeline] name, default the file's stem
  std::string runs;  ///< directory of run directories
  std::map<std::string, std::string> variables;  ///< after --set and expansion
  std::vector<Step> steps;                       ///< in file order
  std::vector<const Step*> order;                ///< dependencies first (after link())
  Problems problems;                             ///< from loading and linking
  [[nodiscard]] const Step* find(const std::string& step) const;
  /// Steps that (transitively) depend on `step`.
  [[nodiscard]] std::vector<const Step*> downstream(const std::string& step) const;
};

/// Reads and parses `file` with variables overridden by `set`, then links the graph.
/// Problems are collected in the result, never thrown; throws InputError only when the
/// file cannot be read.
Pipeline load(const std::string& file, const std::map<std::string, std::string>& set = {});

/// Parses text (for tests: `file` is only used in messages). Does not link.
Pipeline parse(const std::string& text, const std::string& file, const std::map<std::string, std::string>& set);

/// Fills Step::needs (after = ..., and a step reading another's output), reports unknown
/// steps in `after`, cycles and inputs that no file and no step provides, and orders.
void link(Pipeline& p);

/// Validates every task's job command as `pearl run` would parse it (job exists, options
/// known and valid) and, with `comm` and inputs already on disk, as `pearl submit` checks
/// it (input globs match, columns present); problems go to `out`.
void check_jobs(const Pipeline& p, Problems& out, Communicator* comm = nullptr);

/// The parameters the task's output would record (its options, given or default).
/// Throws the InputError `pearl run` would give.
std::vector<std::pair<std::string, std::string>> task_parameters(const Step& step, const Task& task);

/// True when the --input value `input` (NAME=GLOB[:/path]) matches some step's output.
bool produced_by_a_step(const Pipeline& p, const std::string& input);

/// "FILE:LINE: step NAME: message" lines, one per problem.
std::string format(const Pipeline& p, const Problems& problems);

/// Words of a shell-like option string: whitespace separates, '...' and "..." quote.
std::vector<std::string> split_words(const std::string& text);

}  // namespace pearl::cluster::pipeline
