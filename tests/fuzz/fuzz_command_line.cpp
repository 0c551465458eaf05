// Fuzz target: the command line of `pearl run` (global and job options, their values,
// unknown-option suggestions). The input is the argument list, one argument per line.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "cli_harness.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(pearl::fuzz::text(data, size));
  std::vector<std::string> args;
  for (std::string line; std::getline(in, line);) args.push_back(line);
  pearl::fuzz::run_help_line(args);
  return 0;
}
