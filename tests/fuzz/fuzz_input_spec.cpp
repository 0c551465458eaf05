// Fuzz target: `--input NAME=GLOB[:/path]` specs (io::parse_input_spec). A spec either
// parses into a non-empty name and glob and a path starting with '/', or is refused with
// an InputError. The glob is not expanded: that is glob(3) on the file system.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "pearl/io/catalogue.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pearl::fuzz::expect_clean_failure([&] {
    const auto spec = pearl::io::parse_input_spec(pearl::fuzz::text(data, size));
    if (spec.name.empty() || spec.glob.empty() || spec.path.empty() || spec.path.front() != '/') std::abort();
  });
  return 0;
}
