// Run directories: one small text file per task, rewritten atomically on every change.
#include "pearl/cluster/pipeline_record.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pearl/core/error.hpp"

namespace fs = std::filesystem;

namespace pearl::cluster::pipeline {

namespace {

std::string stamp(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string file_name(const std::string& step, const std::string& value) {
  std::string name = step;
  if (!value.empty()) name += "@" + value;
  std::replace(name.begin(), name.end(), '/', '_');
  return name;
}

void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path temp = path.string() + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temp);
    out << text;
    if (!out) throw Error("cannot write " + temp.string());
  }
  fs::rename(temp, path);
}

std::map<std::string, std::string> read_pairs(const fs::path& path) {
  std::map<std::string, std::string> pairs;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find(" = ");
    if (eq != std::string::npos) pairs[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return pairs;
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

std::string utc_now() { return stamp("%Y-%m-%dT%H:%M:%SZ"); }
std::string utc_today() { return stamp("%Y-%m-%d"); }

RunDir RunDir::create(const Pipeline& p, const std::string& profile) {
  const fs::path dir = fs::path(p.runs) / (stamp("%Y%m%dT%H%M%SZ") + "-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(dir / "tasks", ec);
  fs::create_directories(dir / "logs", ec);
  if (ec) throw InputError("cannot create run directory " + dir.string() + ": " + ec.message());
  RunDir run(dir.string());
  std::ostringstream text;
  text << "pipeline = " << fs::absolute(p.file).string() << "\nname = " << p.name << "\nprofile = " << profile
       << "\nstarted = " << utc_now() << '\n';
  for (const auto& [k, v] : p.variables) text << "var." << k << " = " << one_line(v) << '\n';
  write_atomically(dir / "run.txt", text.str());
  return run;
}

std::string RunDir::latest(const std::string& runs) {
  std::error_code ec;
  std::string best;
  for (const auto& e : fs::directory_iterator(runs, ec)) {
    if (fs::exists(e.path() / "run.txt") && e.path().string() > best) best = e.path().string();
  }
  return best;
}

std::string RunDir::log_path(const std::string& step, const std::string& value) const {
  return (fs::path(dir_) / "logs" / (file_name(step, value) + ".log")).string();
}

void RunDir::save(const TaskRecord& r) const {
  std::ostringstream text;
  text << "step = " << r.step << "\nvalue = " << r.value << "\nstate = " << r.state << "\njob_id = " << r.job_id
       << "\nstarted = " << r.started << "\nfinished = " << r.finished << "\noutput = " << r.output
       << "\nlog = " << r.log << "\ncommand = " << one_line(r.command) << "\nreason = " << one_line(r.reason)
       << "\nexit_code = " << r.exit_code << "\nattempts = " << r.attempts << '\n';
  write_atomically(fs::path(dir_) / "tasks" / (file_name(r.step, r.value) + ".txt"), text.str());
}

std::vector<TaskRecord> RunDir::load() const {
  std::vector<TaskRecord> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / "tasks", ec)) {
    if (e.path().extension() != ".txt") continue;
    auto kv = read_pairs(e.path());
    TaskRecord r;
    r.step = kv["step"], r.value = kv["value"], r.state = kv["state"], r.job_id = kv["job_id"];
    r.started = kv["started"], r.finished = kv["finished"], r.output = kv["output"], r.log = kv["log"];
    r.command = kv["command"], r.reason = kv["reason"];
    r.exit_code = kv["exit_code"].empty() ? -1 : std::stoi(kv["exit_code"]);
    r.attempts = kv["attempts"].empty() ? 0 : std::stoi(kv["attempts"]);
    out.push_back(std::move(r));
  }
  return out;
}

std::map<std::string, std::string> RunDir::info() const { return read_pairs(fs::path(dir_) / "run.txt"); }

void RunDir::set_info(const std::string& key, const std::string& value) const {
  auto kv = info();
  kv[key] = one_line(value);
  std::ostringstream text;
  for (const auto& [k, v] : kv) text << k << " = " << v << '\n';
  write_atomically(fs::path(dir_) / "run.txt", text.str());
}

}  // namespace pearl::cluster::pipeline
