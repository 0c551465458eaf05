#include "pearl/cluster/runner.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <ctime>
#include <iostream>
#include <filesystem>
#include <memory>
#include <optional>

#include "column_probe.hpp"
#include "pearl/cluster/bad_rows.hpp"
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

void require_writable(const std::string& option, const std::string& value, std::filesystem::path dir) {
  if (dir.empty()) dir = ".";
  if (std::filesystem::is_directory(dir) && access(dir.c_str(), W_OK) != 0) {
    throw InputError(option + " " + value + ": directory " + dir.string() + " is not writable");
  }
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
  // Writable now, not after hours of work (`pearl submit` runs this before queueing too).
  if (!settings.output.empty()) require_writable("--output", settings.output, std::filesystem::path(settings.output).parent_path());
  if (!settings.csv_dir.empty()) require_writable("--csv", settings.csv_dir, settings.csv_dir);
}

/// Stage 1, collective: check() on every rank; rank 0 reserves the output path (an
/// AtomicOutput names its temporary file and checks the directory; it creates nothing).
/// Returns the temporary path, known to every rank ("" without --output).
std::string check_stage(const JobSpec& spec, const RunSettings& settings, Communicator& comm, const std::string& job,
                        std::optional<io::AtomicOutput>& output) {
  std::string temp;
  agreed(comm, [&] {
    check(spec, settings, job);
    if (comm.rank() == 0 && !settings.output.empty()) {
      try {
        output.emplace(settings.output);
      } catch (const Error& e) {
        throw InputError(std::string("--output: ") + e.what());
      }
      temp = output->temp_path().string();
    }
  });
  return broadcast_string(comm, temp);
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

}  // namespace

void check_job(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm) {
  Engine engine(comm, settings.engine);
  std::optional<io::AtomicOutput> output;  // reserved and released: nothing is created
  check_stage(spec, settings, comm, job.name(), output);
  const auto inputs = inputs_stage(spec, settings, comm, engine);
  if (inputs) probe_columns(job, spec, *inputs, engine);  // columns chosen by the options
}

namespace {
void run_stages(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm, std::ostream& out,
                std::shared_ptr<Checkpoint>& checkpoint, std::optional<StopPoints>& stop_points);
}  // namespace

void run_job(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm, std::ostream& out) {
  // Until the output is committed a signal stops the run at its next agreement; the
  // checkpoint (if any) then says where to resume.
  std::shared_ptr<Checkpoint> checkpoint;
  std::optional<StopPoints> stop_points(std::in_place);
  try {
    run_stages(job, spec, settings, comm, out, checkpoint, stop_points);
  } catch (const StopRequested& stop) {
    throw stopped(stop, checkpoint.get(), settings);
  }
}

namespace {
void run_stages(Job& job, const JobSpec& spec, const RunSettings& settings, Communicator& comm, std::ostream& out,
                std::shared_ptr<Checkpoint>& checkpoint, std::optional<StopPoints>& stop_points) {
  Engine engine(comm, settings.engine);
  const std::string started = utc_now();
  const auto clock = std::chrono::steady_clock::now();

  // 1. check: usage errors before any file is opened; rank 0 reserves the output path.
  std::optional<io::AtomicOutput> output;
  const std::string temp = check_stage(spec, settings, comm, job.name(), output);

  // 2. inputs
  const std::unique_ptr<ShardInputs> inputs = inputs_stage(spec, settings, comm, engine);

  // 2b. checkpoint: what this run is; with --resume, the earlier run's saved operations
  checkpoint = open_checkpoint(comm, settings, job.name(), inputs ? inputs->files() : std::vector<io::InputFileInfo>{},
                               engine);
  engine.attach_checkpoint(checkpoint);

  // 3. run
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

  // 4. write (5. commit)
  if (spec.has_output() || !settings.csv_dir.empty()) {
    io::OutputInfo info;
    info.job = job.name();
    info.version = PEARL_VERSION;
    info.parameters = settings.parameters;
    if (inputs) info.inputs = inputs->files();
    info.ranks = comm.size();
    info.started = started;
    info.finished = utc_now();
    if (bad_rows) {
      info.rejected_rows = bad_rows->rows;
      info.rejected_by_reason = bad_rows->by_reason;
    }
    if (!temp.empty()) {
      io::write_tables(comm, temp, ctx.outputs(), info);
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
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock).count();
  std::int64_t peak = static_cast<std::int64_t>(peak_rss_bytes());
  agree_on_failure(comm, nullptr);
  comm.allreduce(std::span<std::int64_t>(&peak, 1), ReduceOp::max);
  char took[32];
  std::snprintf(took, sizeof took, "%.3f", seconds);
  engine.progress(std::string("done in ") + took + " s; peak RSS (max over ranks) " +
                  format_bytes(static_cast<std::size_t>(peak)) + " = " + std::to_string(peak) + " bytes");
}
}  // namespace

}  // namespace pearl::cluster
