// pearl/core/job.hpp — what a job is: a declaration and a dataflow, nothing about MPI or HDF5.
//
// A job declares its options (Boost.Program_options, so `--help`, `pearl describe` and
// config-file sections `[job.name]` work for free) and implements `run` against the
// engine. Registering it is one line in its own source file; no central list to edit.
//
//   class Counts final : public pearl::Job {
//    public:
//     std::string name() const override { return "demo.counts"; }
//     std::string summary() const override { return "count rows per key"; }
//     void declare(pearl::JobSpec& spec) override {
//       spec.options().add_options()("rows", pearl::po::value(&rows_)->default_value(1000), "rows to generate");
//     }
//     void run(pearl::JobContext& ctx) override {
//       pearl::RangeSource src(ctx.comm(), rows_);
//       auto counts = ctx.engine().reduce_by_key<std::int64_t, std::int64_t>(
//           src, [](pearl::RowRange r, auto& emit) { for (auto i = r.begin; i < r.end; ++i) emit(i % 7, 1); },
//           std::plus<>{});
//       ...
//     }
//    private:
//     std::uint64_t rows_ = 0;
//   };
//   PEARL_REGISTER_JOB(Counts);
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "pearl/core/communicator.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/table.hpp"
#include "pearl/core/shard_output.hpp"
#include "pearl/core/table_input.hpp"

namespace pearl {

namespace po = boost::program_options;

/// An input table a job reads: `--input NAME=GLOB[:/path]`.
struct InputDecl {
  std::string name;
  bool required = true;
  std::string description;
};

/// What a job declares before it runs.
class JobSpec {
 public:
  explicit JobSpec(const std::string& job_name) : options_(job_name + " options") {}
  /// The job's own options; parsed from the command line and the config section [JOB].
  po::options_description& options() noexcept { return options_; }
  [[nodiscard]] const po::options_description& options() const noexcept { return options_; }

  /// Declares an input table; a required one missing from the command line is a usage
  /// error before any work starts.
  void input(std::string name, std::string description, bool required = true) {
    inputs_.push_back({std::move(name), required, std::move(description)});
  }
  [[nodiscard]] const std::vector<InputDecl>& inputs() const noexcept { return inputs_; }
  /// Whether the job writes an output file (`--output FILE`, required then).
  void writes_output(bool yes = true) noexcept { writes_output_ = yes; }
  [[nodiscard]] bool has_output() const noexcept { return writes_output_; }

 private:
  po::options_description options_;
  std::vector<InputDecl> inputs_;
  bool writes_output_ = false;
};

/// What a running job sees: the engine, its inputs, where results go.
class JobContext {
 public:
  JobContext(Engine& engine, std::ostream& out, InputProvider* inputs = nullptr, ShardWriterBase* shards = nullptr)
      : engine_(engine), out_(out), inputs_(inputs), shards_(shards) {}
  Engine& engine() noexcept { return engine_; }
  Communicator& comm() noexcept { return engine_.comm(); }
  /// Human-readable results and summaries. Only rank 0's text is shown.
  std::ostream& out() noexcept { return out_; }
  [[nodiscard]] bool is_root() const noexcept { return engine_.rank() == 0; }

  /// Whether the input table was given on the command line.
  [[nodiscard]] bool has_input(const std::string& table) const { return inputs_ != nullptr && inputs_->has(table); }
  /// "input 'cases' (data/cases-*.h5:/cases)": where a table comes from, for messages.
  [[nodiscard]] std::string input_location(const std::string& table) const { return provider().where(table); }
  /// The stored columns of an input table, with their natural contract types.
  [[nodiscard]] std::vector<ColumnSpec> input_columns(const std::string& table) const {
    return provider().columns(table);
  }
  /// Collective: this rank's batches of an input table, with only `columns` read.
  TableInput input(const std::string& table, const std::vector<ColumnSpec>& columns) {
    return provider().open(table, columns);
  }

  /// Hands this rank's part of an output table to the runner, which writes every
  /// rank's part, in rank order, to the output file. Parts must be in key order and
  /// rank r's keys must precede rank r+1's (e.g. build them from a gathered result on
  /// rank 0, or from a range-partitioned one).
  void write(OutputTable part) { outputs_.push_back(std::move(part)); }
  [[nodiscard]] std::vector<OutputTable>& outputs() noexcept { return outputs_; }

  /// Local: writes input-style shards (see shard_output.hpp); for data generators.
  void write_shard(const std::filesystem::path& file, const std::vector<OutputTable>& tables,
                   const ShardOptions& options = {}) {
    if (shards_ == nullptr) throw Error("this runner cannot write shards");
    shards_->write(file, tables, options);
  }

 private:
  [[nodiscard]] InputProvider& provider() const {
    if (inputs_ == nullptr) throw InputError("this job was run without input tables (--input NAME=GLOB)");
    return *inputs_;
  }
  Engine& engine_;
  std::ostream& out_;
  InputProvider* inputs_;
  ShardWriterBase* shards_;
  std::vector<OutputTable> outputs_;
};

class Job {
 public:
  Job() = default;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  virtual ~Job() = default;

  /// Dotted name used on the command line, e.g. "table.aggregate".
  [[nodiscard]] virtual std::string name() const = 0;
  /// One line for `pearl jobs`.
  [[nodiscard]] virtual std::string summary() const = 0;
  /// Declares options (and, later, inputs and outputs). Called before parsing.
  virtual void declare(JobSpec& spec) = 0;
  /// Collective: runs on every rank after options were parsed into the job's members.
  virtual void run(JobContext& ctx) = 0;
};

/// Every job the program knows, built in or loaded. Jobs add themselves at start-up.
class JobRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Job>()>;
  struct Entry {
    std::string name;
    std::string summary;
    Factory make;
  };

  static JobRegistry& instance();
  /// Adds a job; throws InputError if the name is taken.
  bool add(Factory make);
  /// The job called `name`, or nullptr.
  [[nodiscard]] const Entry* find(const std::string& name) const;
  /// All jobs, sorted by name.
  [[nodiscard]] std::vector<const Entry*> list() const;

 private:
  std::vector<Entry> entries_;
};

}  // namespace pearl

/// Registers a job type at start-up. Put it in the job's .cpp, at namespace scope.
#define PEARL_REGISTER_JOB(Type)                                                        \
  [[maybe_unused]] static const bool pearl_registered_##Type =                          \
      ::pearl::JobRegistry::instance().add([] { return std::make_unique<Type>(); })
