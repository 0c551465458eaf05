#include "pearl/core/checkpoint.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "pearl/core/error.hpp"
#include "pearl/core/stop.hpp"

namespace pearl {

namespace {

constexpr const char* kHeader = "pearl-checkpoint 1";

/// Identity values may hold spaces (paths, option values): a line is "key<TAB>value".
std::string identity_line(const std::string& key, const std::string& value) { return key + '\t' + value + '\n'; }

std::string describe_changes(const CheckpointIdentity& then, const CheckpointIdentity& now) {
  const std::map<std::string, std::string> a(then.begin(), then.end());
  const std::map<std::string, std::string> b(now.begin(), now.end());
  std::string changes;
  const auto add = [&](const std::string& key, const std::string& was, const std::string& is) {
    changes += (changes.empty() ? "" : "; ") + key + ": " + was + " then, " + is + " now";
  };
  for (const auto& [key, value] : a) {
    const auto it = b.find(key);
    if (it == b.end()) add(key, "'" + value + "'", "not given");
    else if (it->second != value) add(key, "'" + value + "'", "'" + it->second + "'");
  }
  for (const auto& [key, value] : b) {
    if (a.find(key) == a.end()) add(key, "not given", "'" + value + "'");
  }
  return changes;
}

}  // namespace

Checkpoint::Checkpoint(std::filesystem::path dir, int rank, std::chrono::seconds every)
    : dir_(std::move(dir)), rank_(rank), every_(every) {}

void Checkpoint::start(CheckpointIdentity identity, const std::string& manifest) {
  identity_ = std::move(identity);
  if (manifest.empty()) return;
  std::istringstream in(manifest);
  std::string line;
  if (!std::getline(in, line) || line != kHeader) {
    throw InputError("checkpoint " + dir_.string() + ": not a pearl checkpoint (or from another pearl version); "
                     "remove it to start over");
  }
  CheckpointIdentity then;
  while (std::getline(in, line)) {
    if (line.rfind("op ", 0) == 0) {
      SavedOperation op;
      std::istringstream fields(line.substr(3));
      if (!(fields >> op.index >> op.kind >> op.pair_bytes >> op.batches >> op.pairs)) {
        throw InputError("checkpoint " + dir_.string() + ": damaged manifest line '" + line + "'");
      }
      resumed_[op.index] = op;
      continue;
    }
    const auto tab = line.find('\t');
    if (tab == std::string::npos) throw InputError("checkpoint " + dir_.string() + ": damaged manifest line '" + line + "'");
    then.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  const std::string changes = describe_changes(then, identity_);
  if (!changes.empty()) {
    throw InputError("--resume: the checkpoint in " + dir_.string() + " was written by another run (" + changes +
                     "); run without --resume to start over");
  }
  written_ = resumed_;  // a second interruption keeps what the first one saved
}

std::filesystem::path Checkpoint::op_dir(std::size_t op) const { return dir_ / ("op-" + std::to_string(op)); }

std::filesystem::path Checkpoint::rank_file(std::size_t op, const std::string& suffix) const {
  return op_dir(op) / ("rank-" + std::to_string(rank_) + "." + suffix);
}

const SavedOperation* Checkpoint::saved(std::size_t op) const {
  const auto it = resumed_.find(op);
  return it == resumed_.end() ? nullptr : &it->second;
}

void Checkpoint::count_restored(const SavedOperation& op) {
  ++restored_;
  restored_batches_ += op.batches;
  restored_pairs_ += op.pairs;
}

bool Checkpoint::due() const { return std::chrono::steady_clock::now() - last_save_ >= every_; }

std::string Checkpoint::manifest_text() const {
  std::string text = std::string(kHeader) + '\n';
  for (const auto& [key, value] : identity_) text += identity_line(key, value);
  for (const auto& [index, op] : written_) {
    text += "op " + std::to_string(index) + ' ' + op.kind + ' ' + std::to_string(op.pair_bytes) + ' ' +
            std::to_string(op.batches) + ' ' + std::to_string(op.pairs) + '\n';
  }
  return text;
}

void Checkpoint::commit(const SavedOperation& op) {
  written_[op.index] = op;
  if (rank_ != 0) return;
  std::filesystem::create_directories(dir_);
  const std::filesystem::path temp = dir_ / "manifest.tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << manifest_text();
    out.flush();
    if (!out) throw Error("checkpoint " + dir_.string() + ": cannot write " + temp.string());
  }
  std::filesystem::rename(temp, dir_ / "manifest");  // a crash leaves the old manifest or the new one
}

void Checkpoint::saved_now() {
  last_save_ = std::chrono::steady_clock::now();
  // Testing aid: PEARL_TEST_HOLD_AFTER_CHECKPOINT=SECONDS pauses after each save, so a
  // test can kill or signal the run at a known point (tests/checkpoint). A stop request
  // ends the pause early: the next agreement then stops the run.
  if (const char* hold = std::getenv("PEARL_TEST_HOLD_AFTER_CHECKPOINT")) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(hold));
    while (std::chrono::steady_clock::now() < until && stop_requested() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

void Checkpoint::remove() noexcept {
  if (rank_ != 0) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string Checkpoint::read_manifest(const std::filesystem::path& dir) {
  std::ifstream in(dir / "manifest");
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace pearl
