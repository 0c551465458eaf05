// pearl/core/job.hpp — the public job API: what a job is, what it declares, what it sees.
//
// A job is a class with a name, a one-line summary, a declaration (inputs, options,
// outputs) and a `run` that expresses the computation on the engine. Jobs and plugins
// do not include this header: they include pearl/job.hpp, which shows a complete job.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/communicator.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/option_spec.hpp"
#include "pearl/core/options.hpp"
#include "pearl/core/shard_output.hpp"
#include "pearl/core/table.hpp"
#include "pearl/core/table_input.hpp"

namespace pearl {

/// An input table a job reads, given on the command line as `--input NAME=GLOB[:/path]`.
struct InputDecl {
  /// The table's name on the command line and in `JobContext::input`.
  std::string name;
  /// A required input missing from the command line is a usage error before any work.
  bool required = true;
  /// One line for `pearl describe` and error messages.
  std::string description;
  /// The columns the job reads and the contract types it reads them as. Every shard is
  /// checked before any work: a missing column, or one whose stored type does not
  /// convert to this type without loss, is an input error naming file, table and column.
  /// Empty: the job chooses its columns at run time (e.g. from its options).
  std::vector<ColumnSpec> columns;
};

/// An output table a job writes into the `--output` file (and `--csv` directory).
struct OutputDecl {
  /// The table's name: `/NAME` in the result file, `NAME.csv` with `--csv`.
  std::string name;
  /// One line for `pearl describe`.
  std::string description;
  /// The columns in order, with their types. Empty: they depend on the options (shown
  /// as such by `pearl describe`, and not checked).
  std::vector<ColumnSpec> columns;
};

/// What a job declares before it runs: filled by `Job::declare`, read by the runner
/// (which checks inputs and outputs against it), by `--help` and by `pearl describe`.
/// Its options are declared with the members of JobOptions (pearl/core/option_spec.hpp):
/// `spec.option("shards", &shards_, 4, "shards per table").at_least(1)`, `spec.required`,
/// `spec.flag`, `spec.repeated`. They are parsed from the command line and from the
/// `[JOB]` section of a `--config` file before `run` is called.
class JobSpec : public JobOptions {
 public:
  /// An empty declaration for the job called `job_name`.
  explicit JobSpec(std::string job_name) : job_name_(std::move(job_name)) {}
  /// The job's name, as given to the constructor.
  [[nodiscard]] const std::string& job_name() const noexcept { return job_name_; }

  /// Declares an input table whose columns the job chooses at run time (it then calls
  /// `JobContext::input(table, columns)` with them).
  void input(std::string name, std::string description, bool required = true) {
    inputs_.push_back({std::move(name), required, std::move(description), {}});
  }
  /// Declares an input table with the columns the job needs and the types it reads them
  /// as; `JobContext::input(table)` then reads exactly these. Checked before any work.
  void input(std::string name, std::string description, std::vector<ColumnSpec> columns, bool required = true) {
    inputs_.push_back({std::move(name), required, std::move(description), std::move(columns)});
  }
  /// The declared inputs, in declaration order.
  [[nodiscard]] const std::vector<InputDecl>& inputs() const noexcept { return inputs_; }
  /// The declared input called `name`, or nullptr.
  [[nodiscard]] const InputDecl* find_input(const std::string& name) const noexcept {
    for (const auto& i : inputs_) {
      if (i.name == name) return &i;
    }
    return nullptr;
  }

  /// Declares an output table (and that the job writes an output file: `--output FILE`
  /// becomes required). With columns, every part the job writes under this name must
  /// have exactly these columns; the runner checks it before writing.
  void output(std::string name, std::string description, std::vector<ColumnSpec> columns = {}) {
    outputs_.push_back({std::move(name), std::move(description), std::move(columns)});
    writes_output_ = true;
  }
  /// The declared output tables, in declaration order.
  [[nodiscard]] const std::vector<OutputDecl>& outputs() const noexcept { return outputs_; }
  /// The declared output called `name`, or nullptr.
  [[nodiscard]] const OutputDecl* find_output(const std::string& name) const noexcept {
    for (const auto& o : outputs_) {
      if (o.name == name) return &o;
    }
    return nullptr;
  }

  /// Whether the job writes an output file (`--output FILE`, required then), for jobs
  /// whose output tables are not declared one by one. `output(...)` implies it.
  void writes_output(bool yes = true) noexcept { writes_output_ = yes; }
  /// Whether `--output FILE` is required (and allowed).
  [[nodiscard]] bool has_output() const noexcept { return writes_output_; }

 private:
  std::string job_name_;
  std::vector<InputDecl> inputs_;
  std::vector<OutputDecl> outputs_;
  bool writes_output_ = false;
};

/// What a running job sees: the engine, its inputs, where results go. Made by the
/// runner on every rank; a job never constructs one (tests may, with their own
/// InputProvider).
class JobContext {
 public:
  /// `inputs` and `shards` may be null when the run has none; `spec` is the job's
  /// declaration (for `input(table)` and `output_table(name)`).
  JobContext(Engine& engine, std::ostream& out, InputProvider* inputs = nullptr, ShardWriterBase* shards = nullptr,
             const JobSpec* spec = nullptr)
      : engine_(engine), out_(out), inputs_(inputs), shards_(shards), spec_(spec) {}

  /// The engine: reduce_by_key, group_by_key, sort_globally (pearl/core/engine.hpp).
  Engine& engine() noexcept { return engine_; }
  /// The rank's memory budget: lease what the job keeps itself instead of computing a
  /// fraction of --memory, e.g. `ctx.memory().lease("od trips", MemoryShare::job_buffer)`
  /// (pearl/core/memory_accountant.hpp; docs/architecture.md lists the shares).
  MemoryAccountant& memory() noexcept { return engine_.memory(); }
  /// The group of ranks, for the small collectives of pearl/core/collectives.hpp.
  Communicator& comm() noexcept { return engine_.comm(); }
  /// Human-readable results and summaries. Only rank 0's text is shown.
  std::ostream& out() noexcept { return out_; }
  /// Whether this is rank 0 (the one whose `out()` is shown).
  [[nodiscard]] bool is_root() const noexcept { return engine_.rank() == 0; }

  /// Whether the input table was given on the command line.
  [[nodiscard]] bool has_input(const std::string& table) const { return inputs_ != nullptr && inputs_->has(table); }
  /// "input 'cases' (data/cases-*.h5:/cases)": where a table comes from, for messages.
  [[nodiscard]] std::string input_location(const std::string& table) const { return provider().where(table); }
  /// The stored columns of an input table, with their natural contract types.
  [[nodiscard]] std::vector<ColumnSpec> input_columns(const std::string& table) const {
    return provider().columns(table);
  }
  /// The type of `column` among input_columns(table). Otherwise throws InputError
  /// starting with `who` ("table.aggregate: --sum"): the column has a type no job can
  /// read (naming it), or it is not there (listing the columns that are).
  [[nodiscard]] DType input_column_type(const std::string& table, const std::string& column,
                                        const std::string& who) const {
    const auto columns = input_columns(table);
    std::string names;
    for (const auto& c : columns) {
      if (c.name == column) return c.type;
      names += (names.empty() ? "" : ", ") + c.name;
    }
    const std::string where = input_location(table);
    if (const std::string type = provider().unsupported_type(table, column); !type.empty()) {
      throw InputError(who + " column '" + column + "' in " + where + " has an unsupported type (" + type + ")");
    }
    throw InputError(who + " column '" + column + "' is not in " + where + " (it has: " + names + ")");
  }
  /// Collective: this rank's batches of an input table, with only `columns` read (in
  /// the types given). Use it when the columns depend on options.
  TableInput input(const std::string& table, const std::vector<ColumnSpec>& columns) {
    return provider().open(table, columns);
  }
  /// Collective: this rank's batches of an input table, with the columns declared in
  /// `JobSpec::input`. Throws Error if the table was not declared with columns.
  TableInput input(const std::string& table) {
    const InputDecl* decl = spec_ == nullptr ? nullptr : spec_->find_input(table);
    if (decl == nullptr || decl->columns.empty()) {
      throw Error("input '" + table + "' was not declared with columns: declare them in JobSpec::input or pass them");
    }
    return provider().open(table, decl->columns);
  }

  /// An empty output table with the columns declared in `JobSpec::output(name, ...)`,
  /// to append rows to. Throws Error if `name` was not declared with columns.
  [[nodiscard]] OutputTable output_table(const std::string& name) const {
    const OutputDecl* decl = spec_ == nullptr ? nullptr : spec_->find_output(name);
    if (decl == nullptr || decl->columns.empty()) {
      throw Error("output '" + name + "' was not declared with columns in JobSpec::output");
    }
    return OutputTable(name, decl->columns);
  }
  /// Hands this rank's part of an output table to the runner, which writes every
  /// rank's part, in rank order, to the output file. Every rank writes a part of every
  /// table (an empty one if it has no rows), in the same order. Parts must be in key order and
  /// rank r's keys must precede rank r+1's (e.g. build them from a gathered result on
  /// rank 0, or from `engine().sort_globally(...)`).
  void write(OutputTable part) { outputs_.push_back(std::move(part)); }
  /// The parts written so far (the runner's side of `write`).
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
  const JobSpec* spec_;
  std::vector<OutputTable> outputs_;
};

/// A job: derive from it, implement the four members, register it with
/// PEARL_REGISTER_JOB. One object is made per run on every rank; options are bound to
/// its members in `declare` and hold their parsed values when `run` is called.
class Job {
 public:
  Job() = default;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  virtual ~Job() = default;

  /// Dotted name used on the command line, `family.job` in lower case, e.g.
  /// "table.aggregate". Unique among built-in and plugin jobs.
  [[nodiscard]] virtual std::string name() const = 0;
  /// One line for `pearl jobs`.
  [[nodiscard]] virtual std::string summary() const = 0;
  /// Declares inputs, options and outputs into `spec`. Called before the command line
  /// is parsed, also by `pearl jobs` and `pearl describe`: no work, no I/O here.
  virtual void declare(JobSpec& spec) = 0;
  /// Collective: runs on every rank after the options were parsed into the job's
  /// members and the declared inputs were checked. Throw InputError for bad options or
  /// data (exit 2), Error for anything else (exit 1); the runner reports it once.
  virtual void run(JobContext& ctx) = 0;
};

/// Every job the program knows, built in or loaded from plugins. Built-in jobs add
/// themselves at start-up (PEARL_REGISTER_JOB); plugin jobs while their library loads.
/// There is one registry per process: plugins share the `pearl` program's (see
/// pearl/core/plugin.hpp).
class JobRegistry {
 public:
  /// Makes a fresh job object.
  using Factory = std::function<std::unique_ptr<Job>()>;
  /// One registered job.
  struct Entry {
    std::string name;     ///< Job::name()
    std::string summary;  ///< Job::summary()
    Factory make;         ///< a new object of the job's class
    std::string origin;   ///< "built-in", or the path of the plugin that registered it
  };

  /// The process's registry (created on first use, so safe from static initialisers).
  static JobRegistry& instance();

  /// Adds a job. Outside `begin_plugin`/`end_plugin` the job is registered at once and
  /// a taken name throws InputError; inside, it is staged for `commit_plugin`. Returns
  /// true (so PEARL_REGISTER_JOB can initialise a static with it).
  bool add(Factory make);
  /// The job called `name`, or nullptr.
  [[nodiscard]] const Entry* find(const std::string& name) const;
  /// All jobs, sorted by name.
  [[nodiscard]] std::vector<const Entry*> list() const;

  /// For the plugin loader: jobs added from now on are staged (not yet visible, no
  /// plugin code run beyond the registration itself) until `commit_plugin` or
  /// `discard_plugin`, so a plugin can be refused after its entry point was checked.
  void begin_plugin(std::string origin);
  /// Registers the staged jobs under the origin given to `begin_plugin`; returns how
  /// many. Throws InputError naming the plugin and the other owner if a name is taken
  /// (registering none of them).
  std::size_t commit_plugin();
  /// Drops the staged jobs.
  void discard_plugin() noexcept;

 private:
  std::vector<Entry> entries_;
  bool staging_ = false;
  std::string staging_origin_;
  std::vector<Factory> staged_;
};

}  // namespace pearl

/// Registers a job class at start-up (built in) or while its plugin loads. Put it in
/// the job's .cpp at namespace scope, once per job class: `PEARL_REGISTER_JOB(MyJob);`.
/// The class must be default-constructible.
#define PEARL_REGISTER_JOB(Type)                                                        \
  [[maybe_unused]] static const bool pearl_registered_##Type =                          \
      ::pearl::JobRegistry::instance().add([] { return std::make_unique<Type>(); })
