#include "pearl/cluster/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

namespace pearl::cluster {

namespace {
std::string seconds_text(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0f s", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%.0f min %02.0f s", std::floor(s / 60), std::fmod(s, 60));
  else std::snprintf(buf, sizeof buf, "%.0f h %02.0f min", std::floor(s / 3600), std::fmod(s, 3600) / 60);
  return buf;
}
}  // namespace

std::string progress_line(const std::string& stage, double seconds, std::uint64_t done, std::uint64_t expected,
                          std::uint64_t total, double reading_seconds) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%.1f s, stage %s", seconds, stage.empty() ? "finishing" : stage.c_str());
  std::string line = buf;
  if (expected == 0) return line;
  // This rank's share done stands for every rank's: the shares are balanced by rows.
  const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(expected));
  const double rows_all = fraction * static_cast<double>(total);
  std::snprintf(buf, sizeof buf, ": %.0f of %llu rows (%.0f%%)", rows_all, static_cast<unsigned long long>(total),
                100 * fraction);
  line += buf;
  if (fraction >= 1) return line + ", all read";
  if (reading_seconds > 0.05 && done > 0) {
    const double rate = rows_all / reading_seconds;
    std::snprintf(buf, sizeof buf, ", %.0f rows/s", rate);
    line += buf;
    line += ", ~" + seconds_text((static_cast<double>(total) - rows_all) / rate) + " left";
  }
  return line;
}

Progress::Progress(const RunMetrics& metrics, ProgressOptions options) : metrics_(metrics), options_(options) {
  if (options_.quiet || (options_.rank != 0 && !options_.verbose)) return;
  live_ = isatty(STDERR_FILENO) == 1 && options_.rank == 0;
  if (!live_ && options_.every <= 0) return;
  thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (live_) std::fputs("\r\033[K", stderr);  // the live line goes; the run's own lines follow
}

void Progress::loop() {
  const auto period = std::chrono::duration<double>(live_ ? 0.5 : options_.every);
  std::unique_lock lock(mutex_);
  for (;;) {
    if (wake_.wait_for(lock, period, [this] { return stopping_; })) return;
    print();
  }
}

void Progress::print() {
  const ReadCounters* reads = reads_.load();
  const double now = metrics_.elapsed();
  std::uint64_t done = 0, expected = 0, total = 0;
  if (reads != nullptr) {
    done = reads->rows.load();
    expected = reads->rows_expected.load();
    total = reads->rows_total.load();
  }
  const double reading = reads == nullptr ? 0 : now - reading_since_.load();
  std::string line = progress_line(metrics_.current_stage(), now, done, expected, total, reading);
  if (options_.rank != 0) line = "rank " + std::to_string(options_.rank) + ": " + line;
  if (live_) std::fprintf(stderr, "\r\033[Kpearl: %s", line.c_str());
  else std::fprintf(stderr, "pearl: progress: %s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace pearl::cluster
