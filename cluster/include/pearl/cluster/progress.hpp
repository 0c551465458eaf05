// pearl/cluster/progress.hpp — progress lines while a run works: rows done of the total,
// throughput and an estimated time left.
//
// A thread on the reporting rank wakes up and prints what the run's counters say; it
// makes no collective call, so a slow or stuck rank never stalls it. On a terminal
// (stderr is a tty) one live line is rewritten in place; in a batch log one plain line
// every `every` seconds, so a log read hours later shows how the run went.
//
//   pearl::cluster::Progress progress(metrics, {.every = 30, .rank = comm.rank()});
//   progress.watch_reads(&inputs->counters());   // once the inputs are catalogued
//   ...                                          // the destructor ends the live line
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "pearl/cluster/run_metrics.hpp"
#include "pearl/cluster/shard_inputs.hpp"

namespace pearl::cluster {

struct ProgressOptions {
  double every = 30;     // seconds between plain lines (--progress-every)
  bool quiet = false;    // --quiet: nothing at all
  bool verbose = false;  // --verbose: every rank reports, not only rank 0
  int rank = 0;
};

/// The line itself, e.g. "12.0 s, stage run: 1200000 of 4000000 rows (30%), 100000 rows/s, ~28 s left".
/// `done` and `expected` are this rank's rows; `total` all ranks'.
std::string progress_line(const std::string& stage, double seconds, std::uint64_t done, std::uint64_t expected,
                          std::uint64_t total, double reading_seconds);

class Progress {
 public:
  Progress(const RunMetrics& metrics, ProgressOptions options);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  /// Rows are counted from `reads` from now on (may be called from the run's thread).
  void watch_reads(const ReadCounters* reads) {
    reading_since_ = metrics_.elapsed();
    reads_ = reads;
  }

 private:
  void loop();
  void print();

  const RunMetrics& metrics_;
  ProgressOptions options_;
  bool live_ = false;  // a terminal: one line rewritten in place
  std::atomic<const ReadCounters*> reads_{nullptr};
  std::atomic<double> reading_since_{0};  // when the inputs were opened
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pearl::cluster
