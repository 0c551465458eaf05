// The runner: run_job's stages in order (check, inputs, checkpoint, run, write, commit)
// and, when one fails, the failed run's metrics. The checks are in run_checks.cpp.
#include "pearl/cluster/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <tuple>

#include "pearl/cluster/bad_rows.hpp"
#include "pearl/cluster/plugin_loader.hpp"
#include "pearl/cluster/progress.hpp"
#include "pearl/cluster/run_metrics.hpp"
#include "pearl/cluster/shard_inputs.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/collectives.hpp"
#include "pearl/core/stop.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/output_set.hpp"
#include "pearl/io/output_writer.hpp"
#include "pearl/io/shard_writer.hpp"
#include "input_checksums.hpp"
#include "run_checks.hpp"

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


/// run_job's stages, in order; `checkpoint` and `stop_points` are run_job's, which reports
/// a stop with what the checkpoint holds.
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
    // The gather rounds: 8 MiB (measured fastest; output_writer.hpp) within their share.
    const MemoryLease rounds = engine.memory().lease(
        "writer rounds", std::min(std::size_t{8} << 20, engine.memory().share(MemoryShare::writer_rounds)));
    if (!temp.empty()) {
      std::size_t cached = 0;
      const io::ChecksumCache cache(io::ChecksumCache::default_dir());
      info.inputs = with_checksums(comm, std::move(info.inputs), cache, cached);
      if (cached > 0) {
        engine.progress("input checksums: " + std::to_string(cached) + " of " + std::to_string(info.inputs.size()) +
                        " files from the checksum cache");
      }
      info.metrics = key_figures_now(comm, metrics, run);
      io::write_tables(comm, temp, ctx.outputs(), info, {.gather_round_bytes = rounds.bytes()});
    }
    if (!settings.csv_dir.empty()) {
      std::vector<std::filesystem::path> csv(ctx.outputs().size());
      agreed(comm, [&] {
        if (comm.rank() != 0) return;
        for (std::size_t t = 0; t < csv.size(); ++t) {
          csv[t] = outputs.add(std::filesystem::path(settings.csv_dir) / (ctx.outputs()[t].name() + ".csv"), "--csv");
        }
      });
      io::write_csv_files(comm, csv, ctx.outputs(), rounds.bytes());
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
  report_memory_use(engine);
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

void run_job(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm, std::ostream& out) {
  // The rank's one memory accountant: every share of --memory is leased from it.
  EngineOptions options = settings.engine;
  options.accountant = std::make_shared<MemoryAccountant>(settings.engine.memory.total);
  Engine engine(comm, std::move(options));
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

}  // namespace pearl::cluster
