// A floating-point key: one static_assert saying why not (check_compile_fails.sh).
// expect: pearl: keys must be integers, enums, pearl::FixedString<N>
#include <cstdint>

#include "pearl/core/engine.hpp"

void counts(pearl::Engine& e) {
  pearl::RangeSource rows(e.comm(), 10);
  auto r = e.reduce_by_key<double, std::int64_t>(
      rows, [](pearl::RowRange, auto& emit) { emit(1.5, std::int64_t{1}); }, std::plus<>{});
}
