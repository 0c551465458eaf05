// pearl/core/detail/spiller.hpp — not API: writes sorted runs of pairs to scratch (thread-safe).
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pearl/core/results.hpp"
#include "pearl/core/scratch.hpp"

namespace pearl::detail {

template <class K, class V>
class Spiller {
 public:
  /// `make_scratch` creates the scratch directory on first use: runs that never spill
  /// never touch the disk.
  explicit Spiller(std::function<std::shared_ptr<ScratchDir>()> make_scratch)
      : make_scratch_(std::move(make_scratch)) {}

  /// Writes `sorted` as one run and empties it.
  void spill(std::vector<std::pair<K, V>>& sorted, const char* stem) {
    if (sorted.empty()) return;
    std::filesystem::path file;
    {
      const std::lock_guard lock(mutex_);
      if (!scratch_) scratch_ = make_scratch_();
      file = scratch_->new_file(stem);
      files_.push_back(file);
    }
    constexpr std::size_t rec = pair_size<K, V>;
    RunWriter w(file, rec);
    std::byte buf[rec];
    for (const auto& [k, v] : sorted) {
      write_pair(buf, k, v);
      w.append(std::span<const std::byte>(buf, rec));
    }
    w.close();
    bytes_ += sorted.size() * rec;
    std::vector<std::pair<K, V>>().swap(sorted);
  }

  SortedRuns<K, V> finish(std::vector<std::pair<K, V>> memory, std::size_t read_buffer) {
    return SortedRuns<K, V>{std::move(memory), std::move(files_), std::move(scratch_), read_buffer, {}};
  }
  [[nodiscard]] std::size_t runs() const noexcept { return files_.size(); }
  /// The runs spilled so far, in spill order (a checkpoint copies them).
  [[nodiscard]] const std::vector<std::filesystem::path>& files() const noexcept { return files_; }
  /// Takes copies of runs spilled by an earlier run (resuming a pass), in their order.
  void adopt_copies(const std::vector<std::filesystem::path>& runs, std::size_t bytes) {
    const std::lock_guard lock(mutex_);
    for (const auto& from : runs) {
      if (!scratch_) scratch_ = make_scratch_();
      files_.push_back(scratch_->new_file("restored"));
      std::filesystem::copy_file(from, files_.back());
    }
    bytes_ += bytes;
  }
  /// Bytes written to scratch so far (run metrics).
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }

 private:
  std::function<std::shared_ptr<ScratchDir>()> make_scratch_;
  std::mutex mutex_;
  std::shared_ptr<ScratchDir> scratch_;
  std::vector<std::filesystem::path> files_;
  std::atomic<std::size_t> bytes_{0};  // map threads spill concurrently
};

}  // namespace pearl::detail
