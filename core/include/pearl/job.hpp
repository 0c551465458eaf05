// pearl/job.hpp — the one header a job includes: everything a job or plugin may use.
//
// A job is a class with a name, a one-line summary, a declaration (inputs with the
// columns and types it needs, options, output tables and their columns) and a `run`
// that expresses the computation on the engine. Nothing here is about MPI, ranks or
// HDF5: the runner checks the declaration before any work, opens the inputs, drives the
// engine on every rank and writes the outputs. A complete job, in its own .cpp file:
//
//   #include <cstdint>
//   #include "pearl/job.hpp"
//
//   namespace {
//   struct Totals {                     // a value: any trivially copyable struct
//     std::int64_t count;
//     double sum;
//   };
//
//   class KeyTotals final : public pearl::Job {
//    public:
//     std::string name() const override { return "demo.key_totals"; }
//     std::string summary() const override { return "count and sum of value per key"; }
//
//     void declare(pearl::JobSpec& spec) override {
//       spec.input("events", "one row per event",
//                  {{"key", pearl::DType::i64}, {"value", pearl::DType::f64}});
//       spec.option("min-count", &min_count_, 1, "drop keys seen fewer times").at_least(1);
//       spec.output("totals", "one row per key, ascending",
//                   {{"key", pearl::DType::i64}, {"count", pearl::DType::i64}, {"sum", pearl::DType::f64}});
//     }
//
//     void run(pearl::JobContext& ctx) override {
//       pearl::TableInput events = ctx.input("events");  // this rank's rows, declared columns only
//       auto by_key = ctx.engine().reduce_by_key<std::int64_t, Totals>(
//           events,
//           [](const pearl::TableBatch& b, auto& emit) {   // a batch of rows, column by column
//             const auto key = b.column<std::int64_t>("key");
//             const auto value = b.column<double>("value");
//             for (std::size_t i = 0; i < b.rows(); ++i) emit(key[i], Totals{1, value[i]});
//           },
//           [](const Totals& a, const Totals& b) { return Totals{a.count + b.count, a.sum + b.sum}; });
//       const auto sorted = ctx.engine().sort_globally(std::move(by_key));  // rank r's keys before rank r+1's
//       pearl::OutputTable out = ctx.output_table("totals");
//       sorted.for_each([&](std::int64_t key, const Totals& t) {
//         if (t.count >= min_count_) out.append(key, t.count, t.sum);
//       });
//       ctx.write(std::move(out));
//     }
//
//    private:
//     std::int64_t min_count_ = 1;
//   };
//   }  // namespace
//   PEARL_REGISTER_JOB(KeyTotals);
//
//   $ mpirun -n 4 pearl run demo.key_totals --input events='data/events-*.h5' --output totals.h5
//
// Built in, a job lives in its own folder under jobs/ (see jobs/_skeleton/ and
// scripts/new-job); out of tree, it is a plugin, whose one .cpp also says
// `PEARL_PLUGIN("acme", "ACME's jobs");` (pearl/core/plugin.hpp). The same class works in
// both; docs/writing-a-job.md walks through it.
//
// What this header brings in is the job API: the job, its declaration and context
// (pearl/core/job.hpp), typed options with domains (option_spec.hpp, options.hpp), the
// engine's typed operations and their results, the memory accountant's leases, tables and
// records, the small collectives, dense and distinct reductions, quantiles, spilling
// buffers, scratch files, suppression, regions and calendars, and what a map saves in a
// checkpoint (map_state.hpp). Headers under pearl/core/detail/ hold the engine's templates
// that are instantiated in a job (its hash tables, sinks and map phase): they come in
// through these headers, are not API, and a job never includes them itself
// (tests/check_layering.sh). No header here includes Boost, OpenMP or MPI. The one
// optional addition is pearl/core/eigen_collectives.hpp,
// for a job that links Eigen itself.
#pragma once

#include "pearl/core/agreement.hpp"
#include "pearl/core/calendar.hpp"
#include "pearl/core/collectives.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/dense_reduce.hpp"
#include "pearl/core/distinct.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/fixed_string.hpp"
#include "pearl/core/group_batches.hpp"
#include "pearl/core/hash_table.hpp"
#include "pearl/core/job.hpp"
#include "pearl/core/map_state.hpp"
#include "pearl/core/memory.hpp"
#include "pearl/core/memory_accountant.hpp"
#include "pearl/core/option_spec.hpp"
#include "pearl/core/options.hpp"
#include "pearl/core/plugin.hpp"
#include "pearl/core/quantiles.hpp"
#include "pearl/core/record.hpp"
#include "pearl/core/region.hpp"
#include "pearl/core/results.hpp"
#include "pearl/core/scratch.hpp"
#include "pearl/core/shard_output.hpp"
#include "pearl/core/sorted_result.hpp"
#include "pearl/core/source.hpp"
#include "pearl/core/spilling_buffer.hpp"
#include "pearl/core/stop.hpp"
#include "pearl/core/suppression.hpp"
#include "pearl/core/table.hpp"
#include "pearl/core/table_input.hpp"
#include "pearl/core/value_text.hpp"
