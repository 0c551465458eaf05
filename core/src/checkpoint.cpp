#include "pearl/core/checkpoint.hpp"

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "pearl/core/error.hpp"
#include "pearl/core/stop.hpp"

namespace pearl {

namespace {

// Version 2 added "pass" lines (mid-pass state); a version 1 manifest reads the same.
constexpr const char* kHeader = "pearl-checkpoint 2";
constexpr const char* kHeaderV1 = "pearl-checkpoint 1";

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
  if (!std::getline(in, line) || (line != kHeader && line != kHeaderV1)) {
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
    if (line.rfind("pass ", 0) == 0) {
      SavedPass pass;
      std::istringstream fields(line.substr(5));
      if (!(fields >> pass.index >> pass.save >> pass.kind >> pass.pair_bytes >> pass.batches >> pass.all_batches)) {
        throw InputError("checkpoint " + dir_.string() + ": damaged manifest line '" + line + "'");
      }
      passes_resumed_[pass.index] = pass;
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
  passes_written_ = passes_resumed_;
}

std::filesystem::path Checkpoint::pass_dir(std::size_t op, std::uint64_t save) const {
  return dir_ / ("pass-" + std::to_string(op) + "." + std::to_string(save));
}

std::filesystem::path Checkpoint::pass_file(std::size_t op, std::uint64_t save, const std::string& suffix) const {
  return pass_dir(op, save) / ("rank-" + std::to_string(rank_) + "." + suffix);
}

std::uint64_t Checkpoint::next_pass_save(std::size_t op) const {
  const auto it = passes_written_.find(op);
  return it == passes_written_.end() ? 0 : it->second.save + 1;
}

const SavedPass* Checkpoint::saved_pass(std::size_t op) const {
  const auto it = passes_resumed_.find(op);
  return it == passes_resumed_.end() ? nullptr : &it->second;
}

void Checkpoint::commit_pass(const SavedPass& pass) {
  const auto earlier = passes_written_.find(pass.index);
  const std::optional<std::uint64_t> old_save =
      earlier == passes_written_.end() ? std::nullopt : std::optional<std::uint64_t>(earlier->second.save);
  passes_written_[pass.index] = pass;
  write_manifest();
  if (old_save && rank_ == 0) {
    std::error_code ec;
    std::filesystem::remove_all(pass_dir(pass.index, *old_save), ec);  // the manifest names the new one now
  }
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
  for (const auto& [index, pass] : passes_written_) {
    text += "pass " + std::to_string(index) + ' ' + std::to_string(pass.save) + ' ' + pass.kind + ' ' + std::to_string(pass.pair_bytes) + ' ' +
            std::to_string(pass.batches) + ' ' + std::to_string(pass.all_batches) + '\n';
  }
  return text;
}

void Checkpoint::commit(const SavedOperation& op) {
  written_[op.index] = op;
  const auto pass = passes_written_.find(op.index);
  std::optional<std::uint64_t> old_save;
  if (pass != passes_written_.end()) {
    old_save = pass->second.save;
    passes_written_.erase(pass);
  }
  write_manifest();
  if (old_save && rank_ == 0) {
    std::error_code ec;
    std::filesystem::remove_all(pass_dir(op.index, *old_save), ec);  // superseded by the result
  }
}

void Checkpoint::write_manifest() const {
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

void Checkpoint::saved_now(bool mid_pass, std::size_t op) {
  last_save_ = std::chrono::steady_clock::now();
  // Testing aid: PEARL_TEST_HOLD_AFTER_CHECKPOINT=SECONDS pauses after each save of an
  // operation (PEARL_TEST_HOLD_AFTER_PASS_SAVE after each save mid-pass, of operation
  // PEARL_TEST_HOLD_PASS_OPERATION only when that is set), so a test can kill or signal
  // the run at a known point (tests/checkpoint). A stop request ends the pause early: the
  // next agreement then stops the run.
  const char* only = mid_pass ? std::getenv("PEARL_TEST_HOLD_PASS_OPERATION") : nullptr;
  if (only != nullptr && std::strtoull(only, nullptr, 10) != op) return;
  if (const char* hold = std::getenv(mid_pass ? "PEARL_TEST_HOLD_AFTER_PASS_SAVE" : "PEARL_TEST_HOLD_AFTER_CHECKPOINT")) {
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
