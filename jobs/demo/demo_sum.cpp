// demo.sum — the engine's demonstration job: a group-by-sum over generated pairs.
//
// Generates `--rows` synthetic (key, amount) events with `--keys` distinct keys from a
// seed (the same rows whatever the rank count), reduces count, sum, min and max per key,
// and prints a summary and the first keys. No input files: it shows the engine end to
// end (map threads, combine, shuffle, spill) on any machine.
#include <cstdint>
#include <iomanip>
#include <ostream>

#include "pearl/job.hpp"

namespace pearl::jobs {
namespace {

struct Stats {
  std::int64_t count;
  std::int64_t sum;
  std::int64_t min;
  std::int64_t max;
};

Stats combine(const Stats& a, const Stats& b) {
  return {a.count + b.count, a.sum + b.sum, std::min(a.min, b.min), std::max(a.max, b.max)};
}

class DemoSum final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "demo.sum"; }
  [[nodiscard]] std::string summary() const override {
    return "engine demo: count, sum, min, max per key over generated events (no input needed)";
  }

  void declare(JobSpec& spec) override {
    spec.option("rows", &rows_, 10'000'000, "number of generated events").at_least(0);
    spec.option("keys", &keys_, 1000, "number of distinct keys").at_least(1);
    spec.option("seed", &seed_, 1, "random seed").at_least(0);
    spec.option("show", &show_, 10, "how many keys to print").at_least(0);
    spec.option("fail-on-rank", &fail_rank_, -1, "testing aid: make this rank throw, to check failure handling")
        .at_least(-1);
    spec.option("fail-in", &fail_in_, "map",
                "testing aid: where --fail-on-rank throws: 'map' (inside the engine) or 'run' (in the "
                "job's own code after the map, outside any agreement)");
  }

  void run(JobContext& ctx) override {
    if (fail_in_ != "map" && fail_in_ != "run") throw InputError("demo.sum: --fail-in must be 'map' or 'run'");
    RangeSource rows(ctx.comm(), rows_);
    const bool fail_here = ctx.comm().rank() == fail_rank_ && fail_in_ == "map";
    const auto result = ctx.engine().reduce_by_key<std::int64_t, Stats>(
        rows,
        [&](RowRange r, auto& emit) {
          if (fail_here) throw Error("demo.sum: failure injected by --fail-on-rank on this rank");
          for (auto i = r.begin; i < r.end; ++i) {
            const std::uint64_t h = mix64(i ^ (seed_ * 0x9e3779b97f4a7c15ULL));
            const auto amount = static_cast<std::int64_t>(h >> 48);  // 0..65535
            emit(static_cast<std::int64_t>(h % keys_), Stats{1, amount, amount, amount});
          }
        },
        combine);
    if (ctx.comm().rank() == fail_rank_ && fail_in_ == "run") {
      throw Error("demo.sum: failure injected by --fail-on-rank on this rank, after the map");
    }

    std::int64_t local_keys = 0, local_sum = 0;
    result.for_each([&](std::int64_t, const Stats& s) {
      ++local_keys;
      local_sum += s.sum;
    });
    const std::int64_t keys = allreduce_sum(ctx.comm(), local_keys);
    const std::int64_t total = allreduce_sum(ctx.comm(), local_sum);

    const auto merged = result.head(ctx.comm(), static_cast<std::size_t>(std::max(show_, 0)));

    auto& out = ctx.out();
    out << "demo.sum: " << rows_ << " events, " << keys << " keys, total amount " << total << " ("
        << ctx.comm().size() << " ranks, " << ctx.engine().options().threads << " threads per rank)\n";
    out << std::setw(10) << "key" << std::setw(12) << "count" << std::setw(16) << "sum" << std::setw(12)
        << "mean" << std::setw(8) << "min" << std::setw(8) << "max" << '\n';
    for (std::size_t i = 0; i < merged.size() && i < static_cast<std::size_t>(show_); ++i) {
      const auto& [k, s] = merged[i];
      out << std::setw(10) << k << std::setw(12) << s.count << std::setw(16) << s.sum << std::setw(12)
          << std::fixed << std::setprecision(2) << static_cast<double>(s.sum) / static_cast<double>(s.count)
          << std::setw(8) << s.min << std::setw(8) << s.max << '\n';
    }
  }

 private:
  std::uint64_t rows_ = 0;
  std::uint64_t keys_ = 0;
  std::uint64_t seed_ = 0;
  int show_ = 10;
  int fail_rank_ = -1;
  std::string fail_in_;
};

}  // namespace
PEARL_REGISTER_JOB(DemoSum);
}  // namespace pearl::jobs
