// A std::string key: one static_assert naming the allowed types (check_compile_fails.sh).
// expect: pearl: keys and values must be record types: arithmetic types, pearl::FixedString<N>
#include <cstdint>
#include <string>

#include "pearl/core/engine.hpp"

void counts(pearl::Engine& e) {
  pearl::RangeSource rows(e.comm(), 10);
  auto r = e.reduce_by_key<std::string, std::int64_t>(
      rows, [](pearl::RowRange, auto& emit) { emit(std::string("A90"), std::int64_t{1}); }, std::plus<>{});
}
