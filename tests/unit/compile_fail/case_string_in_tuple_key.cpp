// A std::string inside a tuple key (94 lines of errors in record.hpp before the
// static_assert): one static_assert naming the allowed types (check_compile_fails.sh).
// expect: pearl: keys and values must be record types: arithmetic types, pearl::FixedString<N>
#include <cstdint>
#include <string>
#include <tuple>

#include "pearl/core/engine.hpp"

void counts(pearl::Engine& e) {
  pearl::RangeSource rows(e.comm(), 10);
  using Key = std::tuple<std::uint32_t, std::string>;
  auto r = e.reduce_by_key<Key, std::int64_t>(
      rows, [](pearl::RowRange, auto& emit) { emit(Key{1, "A90"}, std::int64_t{1}); }, std::plus<>{});
}
