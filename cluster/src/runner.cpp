#include "pearl/cluster/runner.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>

#include "column_probe.hpp"
#include "pearl/cluster/bad_rows.hpp"
#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/plugin_loader.hpp"
#include "pearl/cluster/progress.hpp"
#include "pearl/cluster/run_metrics.hpp"
#include "pearl/cluster/shard_inputs.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/collectives.hpp"
#include "pearl/core/stop.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/scratch.hpp"
#include "pearl/io/atomic_output.hpp"
#include "pearl/io/output_set.hpp"
#include "pearl/io/output_writer.hpp"
#include "pearl/io/shard_writer.hpp"

#ifndef PEARL_VERSION
#define PEARL_VERSION "unknown"
#endif

namespace pearl::cluster {

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

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

/// Stage 1, collective: check() and check_scratch() on every rank, before any file is
/// opened.
void check_stage(const JobSpec& spec, const RunSettings& settings, Communicator& comm, const std::string& job);

/// What an output may not be: the run's inputs, and (without --overwrite) an existing file.
io::OutputPolicy output_policy(const RunSettings& settings, const ShardInputs* inputs) {
  io::OutputPolicy policy{settings.overwrite, settings.output_mode, {}};
  if (inputs != nullptr) {
    for (const auto& f : inputs->files()) policy.inputs.push_back(f.path);
  }
  return policy;
}

/// Stage 2, collective: catalogue every --input, then check the declared columns in every
/// shard before any work: a missing column or one that does not convert is one input
/// error now, not a failure halfway through. nullptr when the job has no --input.
std::unique_ptr<ShardInputs> inputs_stage(const JobSpec& spec, const RunSettings& settings, Communicator& comm,
                                          const Engine& engine) {
  if (settings.inputs.empty()) return nullptr;
  const std::size_t batch_bytes = settings.engine.memory.total / 8 / static_cast<std::size_t>(settings.engine.threads);
  auto inputs = std::make_unique<ShardInputs>(comm, settings.inputs, batch_bytes, settings.on_bad_row);
  engine.progress("inputs: " + std::to_string(inputs->files().size()) + " shards");
  for (const auto& decl : spec.inputs()) {
    if (!decl.columns.empty() && inputs->has(decl.name)) {
      inputs->validate(decl.name, decl.columns);
      inputs->check_always(decl.name, decl.columns);  // every pass over it drops the same bad rows
    }
  }
  return inputs;
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

void check_stage(const JobSpec& spec, const RunSettings& settings, Communicator& comm, const std::string& job) {
  agreed(comm, [&] {
    check(spec, settings, job);
    check_scratch(settings);
  });
}

/// Stage 2, rank 0: the outputs checked against the inputs and reserved; temporaries of
/// dead runs in the output directories removed. Returns the HDF5 temporary ("" if none).
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

/// After run: the tables the job wrote are the ones it declared, with the declared
/// columns (a job bug, so Error and exit 1). Jobs declaring no tables are not checked.
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

/// Testing aid: PEARL_TEST_HOLD_BEFORE_COMMIT=SECONDS pauses between writing the temporary
/// file and committing it, so a test can kill the job mid-write (tests/jobs).
void hold_for_tests() {
  if (const char* hold = std::getenv("PEARL_TEST_HOLD_BEFORE_COMMIT")) {
    std::this_thread::sleep_for(std::chrono::seconds(std::atoi(hold)));
  }
}

/// --on-bad-row skip, after the run: every rank's rejected rows logged on rank 0 and,
/// when the job writes tables, added to them as the `rejects` table.
BadRowReport set_aside(Communicator& comm, const ShardInputs& inputs, std::vector<OutputTable>& outputs) {
  BadRowReport report;
  agreed(comm, [&] {
    for (const auto& t : outputs) {
      if (t.name() == kRejectsTable) {
        throw InputError(std::string("the job writes a table '") + kRejectsTable +
                         "' itself, which --on-bad-row skip needs for the rows it sets aside; use --on-bad-row fail");
      }
    }
  });
  report = gather_bad_rows(comm, inputs.rejects());
  log_bad_rows(report, comm.rank(), std::cerr);
  if (!outputs.empty()) outputs.push_back(rejects_table(report, comm.rank()));
  return report;
}

/// The error and exit status the CLI will report for `failure` (cli.cpp's run_cli).
void describe_failure(const std::exception_ptr& failure, RunDescription& run) {
  try {
    std::rethrow_exception(failure);
  } catch (const RemoteError& e) {
    run.error = "rank " + std::to_string(e.failed_rank()) + ": " + e.what();
    run.exit_status = static_cast<int>(e.exit_code());
  } catch (const Error& e) {
    run.error = e.what();
    run.exit_status = static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    run.error = e.what();
    run.exit_status = static_cast<int>(ExitCode::failure);
  }
}

/// Where this run's metrics go (empty: nowhere).
std::filesystem::path metrics_target(const RunSettings& settings, bool failed) {
  if (!settings.metrics.empty()) {
    if (!failed) return settings.metrics;
    return metrics_path(settings.metrics, true);
  }
  if (settings.output.empty()) return {};
  return metrics_path(settings.output, failed);
}

/// Key figures over all ranks so far, for the output's `metrics` attribute: one allgather.
std::string key_figures_now(Communicator& comm, const RunMetrics& metrics, const RunDescription& run) {
  return key_figures(metrics.gather(comm, run)).dump();
}

}  // namespace

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

namespace {
void run_stages(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm, std::ostream& out,
                Engine& engine, RunMetrics& metrics, Progress& progress, RunDescription& run,
                std::shared_ptr<Checkpoint>& checkpoint, std::optional<StopPoints>& stop_points);
}  // namespace

void run_job(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm, std::ostream& out) {
  Engine engine(comm, settings.engine);
  RunMetrics metrics(engine);
  RunDescription run;
  run.job = job.name();
  run.version = PEARL_VERSION;
  run.parameters = settings.parameters;
  run.output = settings.output;
  run.threads = settings.engine.threads;
  run.memory = settings.engine.memory;
  run.started = utc_now();
  // Until the output is committed a signal stops the run at its next agreement; the
  // checkpoint (if any) then says where to resume.
  std::shared_ptr<Checkpoint> checkpoint;
  std::optional<StopPoints> stop_points(std::in_place);
  try {
    Progress progress(metrics, {.every = settings.progress_every, .quiet = settings.quiet,
                                .verbose = settings.engine.verbose, .rank = comm.rank()});
    run_stages(job, spec, settings, comm, out, engine, metrics, progress, run, checkpoint, stop_points);
  } catch (const std::exception& e) {
    // Every rank learns of the failure first (unless it was agreed where it happened),
    // then the metrics of the failed run are gathered like those of a good one.
    std::exception_ptr failure = std::current_exception();
    if (const auto* stop = dynamic_cast<const StopRequested*>(&e)) {
      failure = std::make_exception_ptr(stopped(*stop, checkpoint.get(), settings));
    }
    if (!comm.failure_agreed()) {
      try {
        agree_on_failure(comm, failure);
      } catch (const std::exception&) {
        failure = std::current_exception();
      }
    }
    describe_failure(failure, run);
    metrics.close();
    run.finished = utc_now();
    const auto target = metrics_target(settings, true);
    const auto doc = metrics.gather(comm, run);
    if (comm.rank() == 0 && !target.empty()) {
      try {
        write_metrics(doc, target);
      } catch (const std::exception&) {
        // the run's own error is the one to report
      }
    }
    std::rethrow_exception(failure);
  }
}

namespace {
void run_stages(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm, std::ostream& out,
                Engine& engine, RunMetrics& metrics, Progress& progress, RunDescription& run,
                std::shared_ptr<Checkpoint>& checkpoint, std::optional<StopPoints>& stop_points) {
  const auto clock = std::chrono::steady_clock::now();

  // 1. check: usage errors before any file is opened.
  metrics.stage("check");
  check_stage(spec, settings, comm, job.name());

  // 2. inputs, then the outputs checked against them and reserved by rank 0.
  metrics.stage("inputs");
  const std::unique_ptr<ShardInputs> inputs = inputs_stage(spec, settings, comm, engine);
  if (inputs) {
    metrics.watch_reads(&inputs->counters());
    progress.watch_reads(&inputs->counters());
    run.inputs = inputs->files();
  }
  io::OutputSet outputs(output_policy(settings, inputs.get()));
  std::string temp;
  agreed(comm, [&] {
    if (comm.rank() == 0) temp = reserve_outputs(outputs, spec, settings);
  });
  temp = broadcast_string(comm, temp);

  // 2b. checkpoint: what this run is; with --resume, the earlier run's saved operations
  checkpoint = open_checkpoint(comm, settings, job.name(), inputs ? inputs->files() : std::vector<io::InputFileInfo>{},
                               engine);
  engine.attach_checkpoint(checkpoint);

  // 3. run
  metrics.stage("run");
  io::ShardFileWriter shards;
  JobContext ctx(engine, out, inputs.get(), &shards, &spec);
  engine.progress("running " + job.name() + " on " + std::to_string(comm.size()) + " ranks, " +
                  std::to_string(settings.engine.threads) + " threads each, memory budget " +
                  format_bytes(settings.engine.memory.total) + " per rank");
  job.run(ctx);
  agree_on_failure(comm, nullptr);
  agreed(comm, [&] { check_outputs(spec, ctx.outputs(), job.name()); });
  std::optional<BadRowReport> bad_rows;
  if (inputs && settings.on_bad_row == io::BadRowPolicy::skip) bad_rows = set_aside(comm, *inputs, ctx.outputs());

  // 4. write: every artefact into its temporary
  metrics.stage("write");
  if (spec.has_output() || !settings.csv_dir.empty()) {
    io::OutputInfo info;
    info.job = job.name();
    info.version = PEARL_VERSION;
    std::tie(info.job_version, info.plugin) = job_provenance(job.name(), PEARL_VERSION);
    info.parameters = settings.parameters;
    if (inputs) info.inputs = inputs->files();
    info.ranks = comm.size();
    info.started = run.started;
    info.finished = utc_now();
    if (bad_rows) {
      info.rejected_rows = bad_rows->rows;
      info.rejected_by_reason = bad_rows->by_reason;
    }
    if (!temp.empty()) {
      info.metrics = key_figures_now(comm, metrics, run);
      io::write_tables(comm, temp, ctx.outputs(), info);
    }
    if (!settings.csv_dir.empty()) {
      std::vector<std::filesystem::path> csv(ctx.outputs().size());
      agreed(comm, [&] {
        if (comm.rank() != 0) return;
        for (std::size_t t = 0; t < csv.size(); ++t) {
          csv[t] = outputs.add(std::filesystem::path(settings.csv_dir) / (ctx.outputs()[t].name() + ".csv"), "--csv");
        }
      });
      io::write_csv_files(comm, csv, ctx.outputs());
    }
  }

  // 5. commit: all artefacts, once all are complete and every rank agreed.
  metrics.stage("commit");
  hold_for_tests();
  agreed(comm, [&] {
    if (comm.rank() == 0) outputs.commit();
  });
  for (const auto& target : outputs.targets()) engine.progress("wrote " + target.string());
  stop_points.reset();  // committed: a signal now changes nothing
  if (checkpoint) {
    if (checkpoint->restored() > 0) {
      engine.notice("resume: " + std::to_string(checkpoint->restored()) + " operations restored from the checkpoint (" +
                    std::to_string(checkpoint->restored_batches()) + " input batches on rank 0, " +
                    std::to_string(checkpoint->restored_pairs()) + " result pairs not computed again)");
    }
    agreed(comm, [&] { checkpoint->remove(); });  // the run succeeded: nothing to resume
  }
  metrics.close();
  run.finished = utc_now();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock).count();
  std::int64_t peak = static_cast<std::int64_t>(peak_rss_bytes());
  agree_on_failure(comm, nullptr);
  comm.allreduce(std::span<std::int64_t>(&peak, 1), ReduceOp::max);
  char took[32];
  std::snprintf(took, sizeof took, "%.3f", seconds);
  engine.progress(std::string("done in ") + took + " s; peak RSS (max over ranks) " +
                  format_bytes(static_cast<std::size_t>(peak)) + " = " + std::to_string(peak) + " bytes");
  // The run's metrics: one gather, written by rank 0 after the output (committed just
  // before, so the record covers the commit). The result stands whatever happens here: a
  // metrics file that cannot be written is a warning, not a failed run.
  const auto target = metrics_target(settings, false);
  const auto doc = metrics.gather(comm, run);
  if (comm.rank() == 0 && !target.empty()) {
    try {
      write_metrics(doc, target);
    } catch (const std::exception& e) {
      engine.notice(std::string("warning: the output is complete, but its run metrics were not written: ") + e.what());
    }
  }
}
}  // namespace

}  // namespace pearl::cluster
