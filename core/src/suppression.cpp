#include "pearl/core/suppression.hpp"

#include <string>

#include "pearl/core/options.hpp"

namespace pearl {

void SmallCellSuppression::declare(JobSpec& spec, const char* what) {
  spec.options().add_options()(
      "min-cell", at_least(&min_cell_, std::int64_t{0})->default_value(10),
      (std::string("small-cell suppression: a cell whose ") + what +
       " is at least 1 and below N is published as -1 (rates NaN, suppressed = 1); 0 turns it off")
          .c_str());
}

void SmallCellSuppression::check() const {
  if (min_cell_ < 0) throw InputError("option --min-cell must be 0 or more, got " + std::to_string(min_cell_));
}

}  // namespace pearl
