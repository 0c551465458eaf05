#include "pearl/cluster/runner.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>

#include "pearl/cluster/progress.hpp"
#include "pearl/cluster/run_metrics.hpp"
#include "pearl/cluster/shard_inputs.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/collectives.hpp"
#include "pearl/core/stop.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/atomic_output.hpp"
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

/// Stage 1: what the job declared is on the command line; the output can be created.
void check(const JobSpec& spec, const RunSettings& settings, const std::string& job) {
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

  // 1. check: usage errors before any file is opened; rank 0 reserves the output path.
  metrics.stage("check");
  std::optional<io::AtomicOutput> output;
  std::string temp;
  agreed(comm, [&] {
    check(spec, settings, job.name());
    if (comm.rank() == 0 && !settings.output.empty()) {
      try {
        output.emplace(settings.output);
      } catch (const Error& e) {
        throw InputError(std::string("--output: ") + e.what());
      }
      temp = output->temp_path().string();
    }
  });
  temp = broadcast_string(comm, temp);

  // 2. inputs
  metrics.stage("inputs");
  std::unique_ptr<ShardInputs> inputs;
  if (!settings.inputs.empty()) {
    const std::size_t batch_bytes = settings.engine.memory.total / 8 / static_cast<std::size_t>(settings.engine.threads);
    inputs = std::make_unique<ShardInputs>(comm, settings.inputs, batch_bytes);
    metrics.watch_reads(&inputs->counters());
    progress.watch_reads(&inputs->counters());
    run.inputs = inputs->files();
    engine.progress("inputs: " + std::to_string(inputs->files().size()) + " shards");
    // The declared columns, in every shard, before any work: a missing column or one
    // that does not convert is one input error now, not a failure halfway through.
    for (const auto& decl : spec.inputs()) {
      if (!decl.columns.empty() && inputs->has(decl.name)) inputs->validate(decl.name, decl.columns);
    }
  }

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

  // 4. write (5. commit)
  metrics.stage("write");
  if (spec.has_output() || !settings.csv_dir.empty()) {
    io::OutputInfo info;
    info.job = job.name();
    info.version = PEARL_VERSION;
    info.parameters = settings.parameters;
    if (inputs) info.inputs = inputs->files();
    info.ranks = comm.size();
    info.started = run.started;
    info.finished = utc_now();
    if (!temp.empty()) {
      info.metrics = key_figures_now(comm, metrics, run);
      io::write_tables(comm, temp, ctx.outputs(), info);
      metrics.stage("commit");
      hold_for_tests();
      agreed(comm, [&] {
        if (output) output->commit();
      });
      stop_points.reset();  // committed: a signal now changes nothing
      engine.progress("wrote " + settings.output);
    }
    if (!settings.csv_dir.empty()) io::write_csv(comm, settings.csv_dir, ctx.outputs());
  }
  stop_points.reset();
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
  // The run's metrics: one gather, written by rank 0 after the output (committed just before).
  const auto target = metrics_target(settings, false);
  const auto doc = metrics.gather(comm, run);
  agreed(comm, [&] {
    if (comm.rank() == 0 && !target.empty()) write_metrics(doc, target);
  });
}

}  // namespace

}  // namespace pearl::cluster
