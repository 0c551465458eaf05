// skeleton.example — count and sum of `value` per `key` over an input table.
//
// Made from jobs/_skeleton by scripts/new-job. Keep the shape (declare what the job reads,
// takes and writes; then one dataflow in run) and replace the logic and its golden test.
// docs/writing-a-job.md explains each part.
//
//   pearl run skeleton.example --input events='data/events-*.h5' --output totals.h5
#include <cstdint>
#include <string>
#include <utility>

#include "pearl/job.hpp"

namespace pearl::jobs {
namespace {

// The value folded per key. Any trivially copyable struct (or number) works.
struct Totals {
  std::int64_t count;
  double sum;
};

class SkeletonExample final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "skeleton.example"; }
  [[nodiscard]] std::string summary() const override { return "count and sum of value per key"; }

  void declare(JobSpec& spec) override {
    // Inputs: the columns read and their types. Every shard is checked before any work.
    spec.input("events", "one row per event: an integer key and a floating-point value",
               {{"key", DType::i64}, {"value", DType::f64}});
    // Options: bound to members, with defaults; also read from [skeleton.example] in --config.
    spec.option("min-count", &min_count_, 1, "leave out keys with fewer rows").at_least(1);
    // Outputs: tables and columns, in order. `--output FILE.h5` becomes required.
    spec.output("totals", "one row per key, ascending by key",
                {{"key", DType::i64}, {"count", DType::i64}, {"sum", DType::f64}});
  }

  void run(JobContext& ctx) override {
    // This rank's share of the rows, in batches, with the declared columns only.
    TableInput events = ctx.input("events");
    // Map every batch to (key, value) pairs; values of a key are folded with the lambda
    // (on this rank first, then across ranks). It must be associative and commutative.
    auto by_key = ctx.engine().reduce_by_key<std::int64_t, Totals>(
        events,
        [](const TableBatch& batch, auto& emit) {
          const auto key = batch.column<std::int64_t>("key");
          const auto value = batch.column<double>("value");
          for (std::size_t i = 0; i < batch.rows(); ++i) emit(key[i], Totals{1, value[i]});
        },
        [](const Totals& a, const Totals& b) { return Totals{a.count + b.count, a.sum + b.sum}; });
    // Range-partition by key, so that the ranks' parts written in rank order are sorted.
    const auto sorted = ctx.engine().sort_globally(std::move(by_key));
    OutputTable totals = ctx.output_table("totals");
    sorted.for_each([&](std::int64_t key, const Totals& t) {
      if (t.count >= min_count_) totals.append(key, t.count, t.sum);
    });
    ctx.write(std::move(totals));
  }

 private:
  std::int64_t min_count_ = 1;
};

}  // namespace
PEARL_REGISTER_JOB(SkeletonExample);
}  // namespace pearl::jobs
