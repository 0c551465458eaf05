// Fuzz target: option values as users type them — sizes (--memory 2GiB: parse_bytes),
// lists (--by a,b: split_list, parse_choices), numbers (--bounds: parse_numbers) and type
// names (parse_dtype). Each either parses or throws pearl's InputError naming the text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "pearl/core/memory.hpp"
#include "pearl/core/options.hpp"
#include "pearl/core/table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string s = pearl::fuzz::text(data, size);
  pearl::fuzz::expect_clean_failure([&] {
    const std::size_t bytes = pearl::parse_bytes(s);
    if (bytes == 0) std::abort();  // documented: at least one byte
    (void)pearl::format_bytes(bytes);
  });
  pearl::fuzz::expect_clean_failure([&] { (void)pearl::split_list(s); });
  pearl::fuzz::expect_clean_failure([&] { (void)pearl::parse_choices("by", s, {"region", "disease", "sex"}); });
  pearl::fuzz::expect_clean_failure([&] { (void)pearl::parse_numbers("bounds", s, 4); });
  pearl::fuzz::expect_clean_failure([&] { (void)pearl::parse_dtype(s); });
  return 0;
}
