// cli_harness.hpp — runs `pearl run fuzz.options --help ...` in-process on one simulated
// rank, for the command-line and config-file fuzz targets. "--help" comes first, so a
// line that parses prints the options and stops: nothing is ever run, read or written.
// fuzz.options declares one option of every type jobs use.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "pearl/cluster/cli.hpp"
#include "pearl/cluster/local_communicator.hpp"
#include "pearl/core/job.hpp"

namespace pearl::fuzz {

class OptionsJob final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "fuzz.options"; }
  [[nodiscard]] std::string summary() const override { return "options of every type (fuzzing only)"; }
  void declare(JobSpec& spec) override {
    spec.input("t", "a table", false);
    spec.option("count", &count_, 1, "an int");
    spec.option("rows", &rows_, 0, "an int64");
    spec.option("limit", &limit_, 0, "an unsigned long");
    spec.option("rate", &rate_, 0.5, "a double");
    spec.option("by", &by_, "", "a list");
    spec.flag("flag", &flag_, "a switch");
    spec.option("enabled", &enabled_, true, "a bool");
    spec.repeated("names", &names_, "repeatable");
    spec.output("out", "a table", {{"k", DType::i64}});
  }
  void run(JobContext&) override { std::abort(); }  // --help comes first: never run

 private:
  int count_ = 1;
  std::int64_t rows_ = 0;
  unsigned long limit_ = 0;
  double rate_ = 0.5;
  std::string by_;
  bool flag_ = false;
  bool enabled_ = true;
  std::vector<std::string> names_;
};

/// `pearl run fuzz.options --help <rest>`; the exit code must be 0 (help) or 2 (refused),
/// never 1 (an unexpected failure) or a crash.
inline void run_help_line(const std::vector<std::string>& rest) {
  std::vector<std::string> args{"run", "fuzz.options", "--help"};
  for (const auto& a : rest) {
    if (a.rfind("--plugin", 0) == 0) continue;  // would load a library from the fuzzed path
    args.push_back(a);
  }
  int code = -1;
  std::ostringstream out, err;
  cluster::run_local(1, [&](Communicator& comm) { code = cluster::run_cli(args, comm, out, err); });
  if (code != 0 && code != 2) {
    std::fprintf(stderr, "fuzz: exit code %d: %s\n", code, err.str().c_str());
    std::abort();
  }
}

PEARL_REGISTER_JOB(OptionsJob);

}  // namespace pearl::fuzz
