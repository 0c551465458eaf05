#include "pearl/cluster/run_checkpoint.hpp"

#include <filesystem>

#include "pearl/cluster/runner.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/collectives.hpp"
#include "pearl/core/error.hpp"

namespace pearl::cluster {

std::optional<std::chrono::seconds> parse_checkpoint_every(const std::string& text) {
  if (text == "off") return std::nullopt;
  std::size_t used = 0;
  long long n = -1;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = text.substr(used);
  long long scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  else if (unit == "m" || unit == "min") scale = 60;
  else if (unit == "h") scale = 3600;
  constexpr long long kMaxSeconds = 366LL * 24 * 3600;
  if (used == 0 || n < 0 || scale == 0 || n > kMaxSeconds / scale) {
    throw InputError("--checkpoint-every '" + text + "': give 'off' or a duration from 0 to 366 days: 0, 90s, 5min, 2h");
  }
  return std::chrono::seconds(n * scale);
}

std::shared_ptr<Checkpoint> open_checkpoint(Communicator& comm, const RunSettings& settings, const std::string& job,
                                            const std::vector<io::InputFileInfo>& inputs, const Engine& engine) {
  const CheckpointSettings& cs = settings.checkpoints;
  if (settings.output.empty() || !cs.every) {
    if (cs.resume) {
      engine.notice(std::string("--resume: ") + (settings.output.empty() ? "the job writes no --output, so" : "with --checkpoint-every off") +
                    " it keeps no checkpoint; starting over");
    }
    return nullptr;
  }
  const std::filesystem::path dir = settings.output + ".checkpoint";
  CheckpointIdentity identity{{"job", job},
                              {"ranks", std::to_string(comm.size())},
                              {"threads", std::to_string(settings.engine.threads)},
                              {"memory", std::to_string(settings.engine.memory.total)}};
  for (const auto& [name, value] : settings.parameters) identity.emplace_back("option --" + name, value);
  for (const auto& f : inputs) {
    identity.emplace_back("input " + f.table + " " + f.path,
                          std::to_string(f.bytes) + " bytes, mtime " + std::to_string(f.mtime));
  }
  // Rank 0 reads the earlier manifest; all learn the text. The directory itself is made
  // by the first save, so a run that fails before one leaves nothing beside its output.
  std::string manifest;
  agreed(comm, [&] {
    if (comm.rank() != 0) return;
    manifest = Checkpoint::read_manifest(dir);
    if (!cs.resume) std::filesystem::remove_all(dir);  // an earlier run's: this run starts over
  });
  manifest = broadcast_string(comm, manifest);
  auto cp = std::make_shared<Checkpoint>(dir, comm.rank(), *cs.every);
  agreed(comm, [&] { cp->start(std::move(identity), cs.resume ? manifest : std::string()); });
  if (cs.resume && manifest.empty()) engine.notice("--resume: no checkpoint in " + dir.string() + "; starting over");
  if (cs.resume && !manifest.empty()) engine.notice("--resume: continuing from the checkpoint in " + dir.string());
  if (!cs.resume && !manifest.empty()) {
    engine.notice("an earlier run's checkpoint in " + dir.string() + " was removed; starting over (--resume continues from one)");
  }
  return cp;
}

Error stopped(const StopRequested& stop, const Checkpoint* checkpoint, const RunSettings& settings) {
  std::string message = stop.what();
  message += settings.output.empty() ? "" : "; nothing was written to " + settings.output;
  if (checkpoint == nullptr) {
    return Error(message + "; no checkpoint to resume from (it needs --output and --checkpoint-every): run it again");
  }
  if (checkpoint->saved_operations() == 0 && !checkpoint->holds_pass()) {
    // Exit 75 all the same: running again (a requeue adds --resume) is what is wanted.
    return Error(message + "; no operation had been saved to a checkpoint yet: run the same command again (with "
                 "--resume it starts over)", ExitCode::resumable);
  }
  return Error(message + "; checkpoint in " + checkpoint->dir().string() + " (" +
                   std::to_string(checkpoint->saved_operations()) + " completed operations saved" +
                   (checkpoint->holds_pass() ? ", and the one in progress where its pass stood" : "") +
                   "): run the same command with --resume to continue",
               ExitCode::resumable);
}

}  // namespace pearl::cluster
