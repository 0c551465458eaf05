// data.generate — synthetic but realistic input shards for every table of the contract.
//
//   pearl run data.generate --domain health|social|transport --rows N --shards S --seed X --out-dir DIR
//
// Writes DIR/<table>-<NNNN>.h5 (shard k of table; S shards for the domain's big tables, one
// for small side tables) plus ground-truth side files (health: outbreaks.csv; social:
// planted_fraud.csv, unemployment_surge.csv). Shard k of every table is written by rank
// k % ranks, and its content depends only on (seed, domain, table, k, N, S): the files hold
// the same tables whatever the number of ranks. Models: docs/data-generator.md.
#include <iomanip>
#include <ostream>

#include "common.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::data {
namespace {

std::string shard_name(const std::string& table, std::uint64_t k, std::uint64_t shards) {
  const std::string digits = std::to_string(k);
  const std::size_t width = std::max<std::size_t>(4, std::to_string(shards - 1).size());
  std::string name = table;  // built by appending: GCC 12 warns falsely on string + "-" chains
  name.append(1, '-').append(width - std::min(width, digits.size()), '0').append(digits).append(".h5");
  return name;
}

class Generate final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "data.generate"; }
  [[nodiscard]] std::string summary() const override {
    return "synthetic Guangdong health / social-security / Shenzhen transport shards with planted ground truth";
  }

  void declare(JobSpec& spec) override {
    spec.required("domain", &params_.domain, "health, social or transport");
    spec.option("rows", &params_.rows, 100'000,
                "rows of the domain's main table (cases, claims, taps); other tables are scaled from it")
        .at_least(1);
    spec.option("shards", &params_.shards, 4, "shards per big table").in_range(1, std::uint64_t{1} << 20);
    spec.option("seed", &params_.seed, 1, "random seed").at_least(0);
    spec.required("out-dir", &out_dir_, "directory for the shards (created if missing)");
  }

  void run(JobContext& ctx) override {
    // The engine is idle: a shard being made may hold half of the budget; the writer's
    // conversion buffer holds as much again for one round.
    const MemoryLease shard_rows = ctx.memory().lease("data.generate shard rows", MemoryShare::output_table);
    params_.spill_bytes = shard_rows.bytes();
    params_.scratch = ctx.engine().options().scratch;
    Domain domain;
    if (params_.domain == "health") domain = health_domain(params_);
    else if (params_.domain == "social") domain = social_domain(params_);
    else if (params_.domain == "transport") domain = transport_domain(params_);
    else throw InputError("data.generate: --domain must be health, social or transport, not '" + params_.domain + "'");

    auto& comm = ctx.comm();
    const auto ranks = static_cast<std::uint64_t>(comm.size());
    const auto rank = static_cast<std::uint64_t>(comm.rank());
    const std::filesystem::path dir(out_dir_);
    agreed(comm, [&] {
      if (rank == 0) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (!std::filesystem::is_directory(dir)) throw InputError("data.generate: --out-dir " + out_dir_ + ": cannot create");
      }
    });

    std::vector<std::int64_t> rows(domain.tables.size(), 0);
    agreed(comm, [&] {
      for (std::size_t t = 0; t < domain.tables.size(); ++t) {
        const auto& task = domain.tables[t];
        for (std::uint64_t k = rank; k < task.shards; k += ranks) {
          const OutputTable part = task.make(k);
          rows[t] += static_cast<std::int64_t>(part.total_rows());
          ctx.write_shard(dir / shard_name(task.table, k, task.shards), {part}, storage_for(task.table, k));
        }
      }
    });
    std::vector<std::string> sidecars;
    agreed(comm, [&] {
      if (rank == 0) sidecars = domain.sidecars(dir);
    });
    for (auto& r : rows) r = allreduce_sum(comm, r);

    auto& out = ctx.out();
    std::int64_t total_rows = 0, files = 0;
    out << "data.generate: domain " << params_.domain << ", seed " << params_.seed << ", " << comm.size()
        << " ranks -> " << dir.string() << '\n';
    for (std::size_t t = 0; t < domain.tables.size(); ++t) {
      const auto& task = domain.tables[t];
      out << "  " << std::left << std::setw(14) << task.table << std::right << std::setw(12) << rows[t] << " rows "
          << std::setw(5) << task.shards << " shards  " << shard_name(task.table, 0, task.shards);
      if (task.shards > 1) out << " .. " << shard_name(task.table, task.shards - 1, task.shards);
      out << '\n';
      total_rows += rows[t];
      files += static_cast<std::int64_t>(task.shards);
    }
    out << "  total: " << total_rows << " rows in " << files << " files";
    if (!sidecars.empty()) {
      out << "; ground truth:";
      for (const auto& s : sidecars) out << ' ' << s;
    }
    out << '\n';
  }

 private:
  Params params_;
  std::string out_dir_;
};

}  // namespace
PEARL_REGISTER_JOB(Generate);
}  // namespace pearl::jobs::data
