// example.histogram — a fixed-width histogram of one floating-point column.
//
//   pearl --plugin libpearl_example.so run example.histogram \
//       --input values='data/values-*.h5:/values' --lo 0 --hi 100 --bins 20 --output hist.h5
//
// Values below --lo go to bin 0 and values from --hi up to the last bin (as clip + bin);
// NaN values are counted in no bin.
#include <cmath>
#include <cstdint>
#include <string>

#include "pearl/job.hpp"

namespace {

class Histogram final : public pearl::Job {
 public:
  std::string name() const override { return "example.histogram"; }
  std::string summary() const override { return "fixed-width histogram of a float64 column x (example plugin)"; }

  void declare(pearl::JobSpec& spec) override {
    spec.input("values", "the values to count", {{"x", pearl::DType::f64}});
    spec.option("lo", &lo_, 0.0, "lower edge of the first bin");
    spec.option("hi", &hi_, 1.0, "upper edge of the last bin");
    spec.option("bins", &bins_, 10, "number of bins");
    spec.output("histogram", "one row per bin, bins without values included",
                {{"bin", pearl::DType::i64}, {"lower", pearl::DType::f64}, {"count", pearl::DType::i64}});
  }

  void run(pearl::JobContext& ctx) override {
    if (bins_ < 1) throw pearl::InputError(name() + ": --bins must be at least 1");
    if (!(hi_ > lo_)) throw pearl::InputError(name() + ": --hi must be greater than --lo");
    pearl::TableInput values = ctx.input("values");
    const double width = (hi_ - lo_) / static_cast<double>(bins_);
    const auto counts = ctx.engine().reduce_by_key<std::int64_t, std::int64_t>(
        values,
        [&](const pearl::TableBatch& batch, auto& emit) {
          for (const double x : batch.column<double>("x")) {
            if (std::isnan(x)) continue;
            auto bin = static_cast<std::int64_t>(std::floor((x - lo_) / width));
            if (bin < 0) bin = 0;
            if (bin >= bins_) bin = bins_ - 1;
            emit(bin, std::int64_t{1});
          }
        },
        [](std::int64_t a, std::int64_t b) { return a + b; });
    // A histogram is small: gather it; rank 0's part holds every bin, empty ones too, and
    // the other ranks write empty parts (every rank writes a part of every table).
    const auto all = counts.gather(ctx.comm());
    pearl::OutputTable out = ctx.output_table("histogram");
    std::size_t next = 0;
    for (std::int64_t bin = 0; ctx.is_root() && bin < bins_; ++bin) {
      std::int64_t n = 0;
      if (next < all.size() && all[next].first == bin) n = all[next++].second;
      out.append(bin, lo_ + static_cast<double>(bin) * width, n);
    }
    ctx.write(std::move(out));
  }

 private:
  double lo_ = 0;
  double hi_ = 1;
  std::int64_t bins_ = 10;
};

}  // namespace
PEARL_REGISTER_JOB(Histogram);
