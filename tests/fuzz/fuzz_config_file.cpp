// Fuzz target: `--config FILE` option files (INI: global options at the top, job options
// in a [JOB] section). The input is the file's content.
#include <cstddef>
#include <cstdint>

#include "cli_harness.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static pearl::fuzz::ScratchFile file("pearl.conf");
  pearl::fuzz::run_help_line({"--config", file.write(data, size).string()});
  return 0;
}
