// Compiles: the allowed counterparts of the case_*.cpp keys (check_compile_fails.sh).
#include <cstdint>
#include <tuple>

#include "pearl/core/engine.hpp"

void counts(pearl::Engine& e) {
  pearl::RangeSource rows(e.comm(), 10);
  using Key = std::tuple<std::uint32_t, pearl::FixedString<8>>;
  auto r = e.reduce_by_key<Key, std::int64_t>(
      rows, [](pearl::RowRange, auto& emit) { emit(Key{1, pearl::FixedString<8>("A90")}, std::int64_t{1}); },
      std::plus<>{});
}
