// pearl/cluster/run_checkpoint.hpp — the runner's checkpoint stage and its stop report.
//
// After the inputs are catalogued the runner opens the run's checkpoint beside the
// output (`OUT.h5.checkpoint/`), records what the run is (job, parameters, inputs with
// size and mtime, ranks, threads, memory), and with --resume checks the earlier run's
// manifest against it (exit 2 naming what changed) or says there is none and starts
// over. The engine then saves and restores operation results (core/checkpoint.hpp).
//
//   auto cp = open_checkpoint(comm, settings, job.name(), files, engine);   // may be null
//   engine.attach_checkpoint(cp);
//   ... job.run(ctx) throws StopRequested ...  -> throw stopped(stop, cp.get(), settings);
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pearl/core/checkpoint.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/stop.hpp"
#include "pearl/io/output_writer.hpp"

namespace pearl::cluster {

struct RunSettings;

/// `--resume` and `--checkpoint-every` (nullopt: off).
struct CheckpointSettings {
  bool resume = false;
  std::optional<std::chrono::seconds> every = std::chrono::minutes(5);
};

/// `--checkpoint-every`'s value: "off", or a duration ("0", "90s", "5min", "2h").
std::optional<std::chrono::seconds> parse_checkpoint_every(const std::string& text);

/// Collective. The run's checkpoint, or nullptr when it has none (no --output, or off).
std::shared_ptr<Checkpoint> open_checkpoint(Communicator& comm, const RunSettings& settings, const std::string& job,
                                            const std::vector<io::InputFileInfo>& inputs, const Engine& engine);

/// The error a stopped run ends with: exit 75 with what the checkpoint holds, or exit 1
/// when there is none to resume from. Says that nothing was written to the output.
Error stopped(const StopRequested& stop, const Checkpoint* checkpoint, const RunSettings& settings);

}  // namespace pearl::cluster
