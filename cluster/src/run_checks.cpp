// The runner's checks: the command line against what the job declares (stage 1), the
// inputs' columns (stage 2), the outputs reserved against the inputs, and after the run
// the tables the job wrote against its declaration. check_job runs them without the job.
#include "run_checks.hpp"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "column_probe.hpp"
#include "pearl/cluster/cli.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/scratch.hpp"
#include "pearl/io/atomic_output.hpp"

namespace pearl::cluster {

namespace {

void require_writable(const std::string& option, const std::string& value, std::filesystem::path dir) {
  if (dir.empty()) dir = ".";
  if (std::filesystem::is_directory(dir) && access(dir.c_str(), W_OK) != 0) {
    throw InputError(option + " " + value + ": directory " + dir.string() + " is not writable");
  }
}

/// An --input whose NAME the job does not declare would be ignored (a misspelt optional
/// input silently drops what it enables): a usage error, with the closest declared name.
void check_input_names(const JobSpec& spec, const RunSettings& settings, const std::string& job) {
  std::vector<std::string> declared;
  for (const auto& input : spec.inputs()) declared.push_back(input.name);
  for (const auto& text : settings.inputs) {
    const std::string name = text.substr(0, text.find('='));
    if (text.find('=') == std::string::npos || spec.find_input(name) != nullptr) continue;
    std::string message = "--input " + text + ": " + job + " reads no input called '" + name + "'";
    const std::string guess = closest_match(name, declared);
    if (!guess.empty()) message += "; did you mean '" + guess + "'?";
    throw InputError(message + " ('pearl describe " + job + "' lists its inputs)");
  }
}

/// Stage 1: what the job declared is on the command line; the output can be created.
void check(const JobSpec& spec, const RunSettings& settings, const std::string& job) {
  check_input_names(spec, settings, job);
  for (const auto& input : spec.inputs()) {
    if (!input.required) continue;
    bool given = false;
    for (const auto& text : settings.inputs) given = given || text.rfind(input.name + "=", 0) == 0;
    if (!given) {
      throw InputError(job + " needs --input " + input.name + "=GLOB[:/path] (" + input.description + ")");
    }
  }
  if (spec.has_output() && settings.output.empty()) throw InputError(job + " needs --output FILE.h5");
  if (!spec.has_output() && !settings.output.empty()) throw InputError(job + " writes no output file; drop --output");
  if (!settings.csv_dir.empty() && !std::filesystem::is_directory(settings.csv_dir)) {
    throw InputError("--csv " + settings.csv_dir + ": no such directory");
  }
  // Writable now, not after hours of work (`pearl submit` runs this before queueing too).
  if (!settings.output.empty()) require_writable("--output", settings.output, std::filesystem::path(settings.output).parent_path());
  if (!settings.csv_dir.empty()) require_writable("--csv", settings.csv_dir, settings.csv_dir);
  if (!settings.metrics.empty()) {  // written after the commit: found wrong now, not then
    std::filesystem::path dir = std::filesystem::path(settings.metrics).parent_path();
    if (dir.empty()) dir = ".";
    if (!std::filesystem::is_directory(dir)) {
      throw InputError("--metrics " + settings.metrics + ": directory " + dir.string() + " does not exist");
    }
    require_writable("--metrics", settings.metrics, dir);
  }
}

/// Leftovers of runs that were killed before they could remove them, in the places this
/// run uses: said on stderr, so that a disk that filled up is explained.
void say_removed(const std::vector<std::filesystem::path>& removed, const std::string& what) {
  for (const auto& p : removed) std::cerr << "pearl: removed " << what << ' ' << p.string() << " of a run that died\n";
}

/// Stage 1, every rank: its scratch directory exists and is writable (found now, not at
/// the first spill); scratch of dead runs on this host is removed.
void check_scratch(const RunSettings& settings) {
  ScratchDir::check_parent(settings.engine.scratch);
  std::vector<std::filesystem::path> removed;
  for (const auto& l : ScratchDir::remove_leftovers(settings.engine.scratch)) removed.push_back(l.path);
  say_removed(removed, "scratch directory");
}

}  // namespace

void check_stage(const JobSpec& spec, const RunSettings& settings, Communicator& comm, const std::string& job) {
  agreed(comm, [&] {
    check(spec, settings, job);
    check_scratch(settings);
  });
}

io::OutputPolicy output_policy(const RunSettings& settings, const ShardInputs* inputs) {
  io::OutputPolicy policy{settings.overwrite, settings.output_mode, {}};
  if (inputs != nullptr) {
    for (const auto& f : inputs->files()) policy.inputs.push_back(f.path);
  }
  return policy;
}

std::unique_ptr<ShardInputs> inputs_stage(const JobSpec& spec, const RunSettings& settings, Communicator& comm,
                                          const Engine& engine) {
  if (settings.inputs.empty()) return nullptr;
  // The readers' batches take their share for the whole run (every pass reads, and a job
  // may read without a pass): the same on every rank, or the run stops here.
  const std::size_t share = engine.memory().share(MemoryShare::input_batches);
  MemoryLease batches = engine.memory().lease("input batches", share, share);
  const std::size_t batch_bytes = batches.bytes() / static_cast<std::size_t>(settings.engine.threads);
  auto inputs = std::make_unique<ShardInputs>(comm, settings.inputs, batch_bytes, settings.on_bad_row);
  inputs->hold(std::move(batches));
  engine.progress("inputs: " + std::to_string(inputs->files().size()) + " shards");
  for (const auto& decl : spec.inputs()) {
    if (!decl.columns.empty() && inputs->has(decl.name)) {
      inputs->validate(decl.name, decl.columns);
      inputs->check_always(decl.name, decl.columns);  // every pass over it drops the same bad rows
    }
  }
  return inputs;
}

std::string reserve_outputs(io::OutputSet& outputs, const JobSpec& spec, const RunSettings& settings) {
  const auto dir_of = [](const std::filesystem::path& p) {
    return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  };
  std::string temp;
  if (!settings.output.empty()) {
    say_removed(io::remove_dead_temporaries(dir_of(settings.output)), "temporary output");
    temp = outputs.add(settings.output, "--output").string();
  }
  if (!settings.csv_dir.empty()) {
    say_removed(io::remove_dead_temporaries(settings.csv_dir), "temporary output");
    // Declared tables now; tables named by the options when they are written.
    for (const auto& o : spec.outputs()) {
      io::check_output_target(std::filesystem::path(settings.csv_dir) / (o.name + ".csv"), "--csv", outputs.policy());
    }
  }
  return temp;
}

void check_outputs(const JobSpec& spec, const std::vector<OutputTable>& parts, const std::string& job) {
  if (spec.outputs().empty()) return;
  for (const auto& part : parts) {
    const OutputDecl* decl = spec.find_output(part.name());
    if (decl == nullptr) throw Error(job + " wrote output table '" + part.name() + "', which it does not declare");
    if (!decl->columns.empty() && part.specs() != decl->columns) {
      std::string got;
      for (const auto& c : part.specs()) got += (got.empty() ? "" : ", ") + c.name + " " + std::string(dtype_name(c.type));
      throw Error(job + ": output table '" + part.name() + "' has columns (" + got +
                  "), not the declared ones ('pearl describe " + job + "')");
    }
  }
}

void check_job(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm) {
  Engine engine(comm, settings.engine);
  check_stage(spec, settings, comm, job.name());
  const auto inputs = inputs_stage(spec, settings, comm, engine);
  agreed(comm, [&] {  // the outputs reserved as run reserves them (same checks, same messages), then released
    if (comm.rank() != 0) return;
    io::OutputSet outputs(output_policy(settings, inputs.get()));
    (void)reserve_outputs(outputs, spec, settings);
  });
  if (inputs) probe_columns(job, spec, *inputs, engine);  // columns chosen by the options
}

}  // namespace pearl::cluster
