// Fuzz target: table.aggregate's --derive NAME=EXPR (jobs/table/expression.cpp). Each
// input either parses, and then prints and lists its columns without failing, or is
// refused with pearl's InputError naming the text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "expression.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string s = pearl::fuzz::text(data, size);
  pearl::fuzz::expect_clean_failure([&] {
    const auto d = pearl::jobs::table_aggregate::parse_derivation(s);
    const auto& nodes = d.expression.nodes();
    if (d.name.empty() || nodes.empty() || nodes.size() > pearl::jobs::table_aggregate::kMaxExpressionNodes) {
      std::abort();
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {  // children before parents, positions inside the text
      const auto& n = nodes[i];
      if (n.position == 0 || n.position > s.size()) std::abort();
      if (n.op >= pearl::jobs::table_aggregate::Expression::Op::add && (n.left >= i || n.right >= i)) std::abort();
    }
    (void)d.expression.text();
    (void)d.expression.columns();
  });
  return 0;
}
