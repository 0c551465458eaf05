#include "column_probe.hpp"

#include <sstream>

#include "pearl/core/error.hpp"

namespace pearl::cluster {

namespace {

/// An InputError of the probe itself, told apart from whatever the job throws.
class ColumnRefused : public InputError {
 public:
  explicit ColumnRefused(const InputError& e) : InputError(e.what()) {}
};

struct NoRows final : TableReaderBase {
  std::optional<TableBatch> next() override { return std::nullopt; }
};

class ProbeInputs final : public InputProvider {
 public:
  explicit ProbeInputs(ShardInputs& real) : real_(real) {}
  [[nodiscard]] bool has(const std::string& table) const override { return real_.has(table); }
  [[nodiscard]] std::string where(const std::string& table) const override { return real_.where(table); }
  [[nodiscard]] std::vector<ColumnSpec> columns(const std::string& table) const override {
    return real_.columns(table);
  }
  TableInput open(const std::string& table, const std::vector<ColumnSpec>& columns) override {
    opened_ = true;
    try {
      real_.validate(table, columns);
    } catch (const InputError& e) {
      throw ColumnRefused(e);
    }
    return TableInput(std::make_unique<NoRows>(), 0);
  }
  [[nodiscard]] bool opened() const { return opened_; }

 private:
  ShardInputs& real_;
  bool opened_ = false;
};

}  // namespace

void probe_columns(Job& job, const JobSpec& spec, ShardInputs& inputs, Engine& engine) {
  ProbeInputs probe(inputs);
  std::ostringstream discard;
  JobContext ctx(engine, discard, &probe, nullptr, &spec);
  try {
    job.run(ctx);
  } catch (const ColumnRefused& e) {
    throw InputError(e.what());
  } catch (const InputError&) {
    // Before its first read the job has seen what a real run sees (options, catalogues,
    // stored columns): its refusal then is the real run's.
    if (!probe.opened()) throw;
  } catch (const std::exception&) {
    // The job on no rows: not the user's mistake (see the header).
  }
}

}  // namespace pearl::cluster
