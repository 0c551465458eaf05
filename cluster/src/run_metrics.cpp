#include "pearl/cluster/run_metrics.hpp"

#include <mpi.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "pearl/core/error.hpp"
#include "pearl/io/atomic_output.hpp"
#include "pearl/io/hdf5.hpp"

namespace pearl::cluster {

namespace {

using nlohmann::json;

double cpu_seconds() noexcept {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

/// The MPI library's version, or why there is none: the `pearl` program started without
/// a launcher runs as one rank and never initialises MPI (launcher.hpp).
std::string mpi_version(int ranks) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized == 0) return ranks == 1 ? "none (one rank without a launcher: MPI not initialised)" : "none (simulated ranks)";
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string v(text, static_cast<std::size_t>(length));
  const auto newline = v.find_first_of(",\n");  // Open MPI appends package and build details
  if (newline != std::string::npos) v.resize(newline);
  while (!v.empty() && (v.back() == ',' || v.back() == ' ' || v.back() == '\0')) v.pop_back();
  return v;
}

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

/// The counters of an operation or a sum of them.
json stats_json(const EngineStats& s) {
  return {{"batches", s.batches},           {"exchanges", s.exchanges},
          {"rounds", s.rounds},             {"bytes_sent", s.bytes_sent},
          {"bytes_received", s.bytes_received}, {"pairs_emitted", s.pairs_emitted},
          {"pairs_after_combining", s.pairs_sent}, {"spilled_runs", s.spilled_runs},
          {"spilled_bytes", s.spilled_bytes}, {"largest_outbox_bytes", s.largest_outbox},
          {"largest_round_bytes", s.largest_round}, {"uncombined_pairs", s.uncombined_pairs}};
}

void add(EngineStats& a, const EngineStats& b) {
  a.batches += b.batches;
  a.exchanges += b.exchanges;
  a.rounds += b.rounds;
  a.bytes_sent += b.bytes_sent;
  a.bytes_received += b.bytes_received;
  a.pairs_emitted += b.pairs_emitted;
  a.pairs_sent += b.pairs_sent;
  a.spilled_runs += b.spilled_runs;
  a.spilled_bytes += b.spilled_bytes;
  a.largest_outbox = std::max(a.largest_outbox, b.largest_outbox);
  a.largest_round = std::max(a.largest_round, b.largest_round);
  a.uncombined_pairs += b.uncombined_pairs;
}

/// Over ranks: the sum of every additive counter, and max/mean of the wall time.
json summarise(const std::vector<json>& per_rank) {
  json total = json::object();
  double wall_max = 0, wall_sum = 0, rows_max = 0, rows_sum = 0;
  for (const auto& r : per_rank) {
    for (const auto& [key, value] : r.items()) {
      if (!value.is_number()) continue;
      const bool peak = key.find("largest") != std::string::npos || key.find("peak") != std::string::npos ||
                        key == "started" || key == "operations";  // the same on every rank
      if (!total.contains(key)) total[key] = value;
      else if (peak) total[key] = std::max(total[key].get<double>(), value.get<double>());
      else total[key] = total[key].get<double>() + value.get<double>();
    }
    const double wall = r.value("seconds", 0.0);
    wall_max = std::max(wall_max, wall);
    wall_sum += wall;
    const double rows = r.value("rows_read", 0.0);
    rows_max = std::max(rows_max, rows);
    rows_sum += rows;
  }
  const double n = static_cast<double>(per_rank.size());
  total.erase("seconds");
  total.erase("cpu_seconds");
  total.erase("started");
  total["wall_seconds_max"] = wall_max;
  total["wall_seconds_mean"] = wall_sum / n;
  // max/mean: 1 is perfect balance; a stage under a millisecond is not worth judging.
  total["imbalance"] = wall_sum > 1e-3 * n ? wall_max / (wall_sum / n) : 1.0;
  if (rows_sum > 0) total["rows_imbalance"] = rows_max / (rows_sum / n);
  return total;
}

}  // namespace

RunMetrics::RunMetrics(const Engine& engine) : engine_(engine) {}

std::uint64_t RunMetrics::rows_now() const { return reads_ != nullptr ? reads_->rows.load() : 0; }
std::uint64_t RunMetrics::bytes_now() const { return reads_ != nullptr ? reads_->bytes.load() : 0; }

double RunMetrics::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void RunMetrics::stage(const std::string& name) {
  close();
  Stage s;
  s.name = name;
  s.started = elapsed();
  s.cpu_at_start = cpu_seconds();
  s.first_operation = engine_.history().size();
  s.open = true;
  rows_at_start_ = rows_now();
  bytes_at_start_ = bytes_now();
  const std::lock_guard lock(mutex_);
  stages_.push_back(std::move(s));
}

void RunMetrics::close() {
  const std::lock_guard lock(mutex_);
  if (stages_.empty() || !stages_.back().open) return;
  Stage& s = stages_.back();
  s.seconds = elapsed() - s.started;
  s.cpu_seconds = cpu_seconds() - s.cpu_at_start;
  s.rows_read = rows_now() - rows_at_start_;
  s.bytes_read = bytes_now() - bytes_at_start_;
  s.end_operation = engine_.history().size();
  s.peak_rss = peak_rss_bytes();
  s.open = false;
}

std::string RunMetrics::current_stage() const {
  const std::lock_guard lock(mutex_);
  return stages_.empty() || !stages_.back().open ? std::string() : stages_.back().name;
}

namespace {

/// The accountant's high-water marks, owner by owner (docs/user-guide.md, "Run metrics").
json memory_use_json(const MemoryAccountant& memory) {
  json owners = json::array();
  for (const auto& u : memory.usage()) {
    owners.push_back({{"owner", u.owner}, {"peak_bytes", u.peak}, {"asked_bytes", u.asked}, {"leases", u.leases},
                      {"shrunk", u.shrunk}});
  }
  return {{"budget_bytes", memory.total()}, {"peak_bytes", memory.peak()}, {"owners", std::move(owners)}};
}

}  // namespace

void report_memory_use(const Engine& engine) {
  const MemoryAccountant& memory = engine.memory();
  engine.progress("memory: leases held at most " + format_bytes(memory.peak()) + " of " + format_bytes(memory.total()) +
                  " at once (rank 0)");
  for (const auto& u : memory.usage()) {
    engine.progress("memory:   " + u.owner + " peak " + format_bytes(u.peak) + ", asked " + format_bytes(u.asked) +
                    ", " + std::to_string(u.leases) + (u.leases == 1 ? " lease" : " leases") +
                    (u.shrunk > 0 ? ", " + std::to_string(u.shrunk) + " granted less" : ""));
  }
}

json RunMetrics::local_record() const {
  json stages = json::array();
  for (const auto& s : stages_) {
    EngineStats sum;
    for (std::size_t i = s.first_operation; i < s.end_operation; ++i) add(sum, engine_.history()[i].stats);
    json j = stats_json(sum);
    j["started"] = s.started;
    j["seconds"] = s.seconds;
    j["cpu_seconds"] = s.cpu_seconds;
    j["rows_read"] = s.rows_read;
    j["bytes_read"] = s.bytes_read;
    j["operations"] = s.end_operation - s.first_operation;
    j["peak_rss_bytes"] = s.peak_rss;
    stages.push_back({{"name", s.name}, {"figures", std::move(j)}});
  }
  json operations = json::array();
  for (const auto& op : engine_.history()) {
    json j = stats_json(op.stats);
    j["started"] = op.started;
    j["seconds"] = op.seconds;
    j["cpu_seconds"] = op.cpu_seconds;
    operations.push_back({{"kind", op.kind}, {"figures", std::move(j)}});
  }
  return {{"host", host_name()},
          {"peak_rss_bytes", peak_rss_bytes()},
          {"max_rss_bytes_getrusage", rusage_max_rss()},
          {"cpu_seconds", cpu_seconds()},
          {"wall_seconds", elapsed()},
          {"rows_expected", reads_ != nullptr ? reads_->rows_expected.load() : 0},
          {"memory_leases", memory_use_json(engine_.memory())},
          {"stages", std::move(stages)},
          {"operations", std::move(operations)}};
}

json RunMetrics::gather(Communicator& comm, const RunDescription& run) const {
  const std::string mine = local_record().dump();
  std::vector<std::vector<std::byte>> all;
  comm.allgather(std::span<const std::byte>(reinterpret_cast<const std::byte*>(mine.data()), mine.size()), all);
  std::vector<json> ranks;
  ranks.reserve(all.size());
  for (const auto& bytes : all) ranks.push_back(json::parse(reinterpret_cast<const char*>(bytes.data()),
                                                            reinterpret_cast<const char*>(bytes.data() + bytes.size())));
  json doc;
  doc["format"] = "pearl-run-metrics/1";
  doc["job"] = run.job;
  doc["pearl_version"] = run.version;
  json parameters = json::object();
  for (const auto& [k, v] : run.parameters) parameters[k] = v;
  doc["parameters"] = std::move(parameters);
  json inputs = json::array();
  for (const auto& in : run.inputs) inputs.push_back({{"table", in.table}, {"path", in.path}, {"bytes", in.bytes}});
  doc["inputs"] = std::move(inputs);
  doc["output"] = run.output;
  doc["ranks"] = comm.size();
  doc["threads"] = run.threads;
  doc["memory_budget"] = {{"total_bytes", run.memory.total},
                          {"tables_bytes", MemoryShare::engine_tables.of(run.memory.total)},
                          {"staging_bytes", MemoryShare::shuffle_staging.of(run.memory.total)},
                          {"round_bytes", MemoryShare::shuffle_rounds.of(run.memory.total)}};
  doc["mpi_version"] = mpi_version(comm.size());
  doc["hdf5_version"] = hdf5_version();
  doc["started"] = run.started;
  doc["finished"] = run.finished;
  doc["exit_status"] = run.exit_status;
  doc["error"] = run.error.empty() ? json(nullptr) : json(run.error);
  json hosts = json::array();
  for (const auto& r : ranks) hosts.push_back(r["host"]);
  doc["hosts"] = std::move(hosts);

  // Stages and operations: every rank made the same ones in the same order (the stages
  // are the runner's, the operations collective), so index i matches across ranks.
  json stages = json::array();
  const auto& first = ranks.front();
  for (std::size_t i = 0; i < first["stages"].size(); ++i) {
    std::vector<json> per_rank;
    for (const auto& r : ranks) {
      if (i < r["stages"].size()) per_rank.push_back(r["stages"][i]["figures"]);
    }
    stages.push_back({{"name", first["stages"][i]["name"]}, {"total", summarise(per_rank)}, {"per_rank", per_rank}});
  }
  doc["stages"] = std::move(stages);
  json operations = json::array();
  for (std::size_t i = 0; i < first["operations"].size(); ++i) {
    std::vector<json> per_rank;
    for (const auto& r : ranks) {
      if (i < r["operations"].size()) per_rank.push_back(r["operations"][i]["figures"]);
    }
    operations.push_back(
        {{"kind", first["operations"][i]["kind"]}, {"total", summarise(per_rank)}, {"per_rank", per_rank}});
  }
  doc["operations"] = std::move(operations);
  json per_rank = json::array();
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    json j = ranks[r];
    j.erase("stages");
    j.erase("operations");
    j["rank"] = r;
    per_rank.push_back(std::move(j));
  }
  doc["per_rank"] = std::move(per_rank);
  return doc;
}

json key_figures(const json& doc) {
  json k = json::object();
  double rows = 0, bytes_sent = 0, emitted = 0, combined = 0, spilled = 0, peak = 0, wall = 0;
  for (const auto& s : doc["stages"]) {
    const auto& t = s["total"];
    rows += t.value("rows_read", 0.0);
    bytes_sent += t.value("bytes_sent", 0.0);
    emitted += t.value("pairs_emitted", 0.0);
    combined += t.value("pairs_after_combining", 0.0);
    spilled += t.value("spilled_bytes", 0.0);
    wall += t.value("wall_seconds_max", 0.0);
  }
  for (const auto& r : doc["per_rank"]) peak = std::max(peak, r.value("peak_rss_bytes", 0.0));
  k["rows_read"] = rows;
  k["pairs_emitted"] = emitted;
  k["pairs_after_combining"] = combined;
  k["bytes_shuffled"] = bytes_sent;
  k["spilled_bytes"] = spilled;
  k["peak_rss_bytes_max"] = peak;
  k["seconds"] = wall;
  k["ranks"] = doc["ranks"];
  k["threads"] = doc["threads"];
  return k;
}

std::filesystem::path metrics_path(const std::filesystem::path& output, bool failed) {
  std::filesystem::path p = output;
  if (p.extension() == ".h5" || p.extension() == ".hdf5") p.replace_extension();
  p += failed ? ".failed.metrics.json" : ".metrics.json";
  return p;
}

void write_metrics(const json& doc, const std::filesystem::path& path) {
  io::AtomicOutput file(path);
  {
    std::ofstream out(file.temp_path());
    out << doc.dump(2) << '\n';
    if (!out) throw Error("cannot write run metrics to " + file.temp_path().string());
  }
  file.commit();
}

std::uint64_t rusage_max_rss() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;  // Linux reports kB
}

}  // namespace pearl::cluster
