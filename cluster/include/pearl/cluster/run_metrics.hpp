// pearl/cluster/run_metrics.hpp — what one run did, per stage and per rank, as JSON.
//
// The runner opens each of its stages by name; the metrics note the stage's wall and CPU
// time, the rows and bytes read, the engine operations that finished in it (pairs,
// shuffle bytes, rounds, spills) and the peak RSS at its end. At the end of the run (or
// after an agreed failure) one allgather collects every rank's record, and rank 0 writes
// OUTPUT.metrics.json (docs/user-guide.md, "Run metrics"):
//
//   pearl::cluster::RunMetrics metrics(engine);
//   metrics.stage("inputs");  ...  metrics.stage("run");  ...  metrics.close();
//   nlohmann::json doc = metrics.gather(comm, run);   // collective, every rank
//   if (comm.rank() == 0) pearl::cluster::write_metrics(doc, "out.metrics.json");
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "pearl/cluster/shard_inputs.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/engine.hpp"

namespace pearl::cluster {

/// What the run was: the metrics' header (the same on every rank).
struct RunDescription {
  std::string job;
  std::string version;
  std::vector<std::pair<std::string, std::string>> parameters;
  std::vector<io::InputFileInfo> inputs;
  std::string output;
  int threads = 1;
  MemoryBudget memory;
  std::string started;
  std::string finished;
  int exit_status = 0;
  std::string error;  // empty on success
};

/// Local: --verbose lines on rank 0, one per owner of the rank's memory accountant, with
/// its high-water mark ("memory: engine tables peak 1.0 GiB of 1.0 GiB asked, 3 leases").
void report_memory_use(const Engine& engine);

class RunMetrics {
 public:
  explicit RunMetrics(const Engine& engine);

  /// Local. Closes the open stage (if any) and opens `name`.
  void stage(const std::string& name);
  /// Local. Closes the open stage.
  void close();
  /// Local. Rows and bytes read are taken from `reads` from now on (the inputs stage).
  void watch_reads(const ReadCounters* reads) { reads_ = reads; }
  /// Thread-safe: the open stage's name ("" when none), for progress lines.
  [[nodiscard]] std::string current_stage() const;
  /// Seconds since the metrics were made.
  [[nodiscard]] double elapsed() const;

  /// Collective: one allgather of every rank's record; the whole document on every rank.
  [[nodiscard]] nlohmann::json gather(Communicator& comm, const RunDescription& run) const;

 private:
  struct Stage {
    std::string name;
    double started = 0, seconds = 0, cpu_seconds = 0;
    std::uint64_t rows_read = 0, bytes_read = 0;
    std::size_t first_operation = 0, end_operation = 0;  // the engine's history[first, end)
    std::uint64_t peak_rss = 0;
    double cpu_at_start = 0;
    bool open = false;
  };
  [[nodiscard]] nlohmann::json local_record() const;
  [[nodiscard]] std::uint64_t rows_now() const;
  [[nodiscard]] std::uint64_t bytes_now() const;

  const Engine& engine_;
  const ReadCounters* reads_ = nullptr;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::vector<Stage> stages_;
  std::uint64_t rows_at_start_ = 0, bytes_at_start_ = 0;
  mutable std::mutex mutex_;  // stage names are read by the progress thread
};

/// The path of a run's metrics: OUT.metrics.json beside OUT.h5 after success, and
/// OUT.failed.metrics.json after a failure (never mistaken for a result).
std::filesystem::path metrics_path(const std::filesystem::path& output, bool failed);

/// Writes `doc` (indented) to `path` through a temporary and a rename.
void write_metrics(const nlohmann::json& doc, const std::filesystem::path& path);

/// The key figures of a gathered document, for the output file's `metrics` attribute.
nlohmann::json key_figures(const nlohmann::json& doc);

/// This process's peak RSS as getrusage reports it (ru_maxrss), in bytes.
std::uint64_t rusage_max_rss();

}  // namespace pearl::cluster
