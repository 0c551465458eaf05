#include "pearl/core/suppression.hpp"

#include <string>


namespace pearl {

void SmallCellSuppression::declare(JobSpec& spec, const char* what) {
  spec.option("min-cell", &min_cell_, 10,
              std::string("small-cell suppression: a cell whose ") + what +
                  " is at least 1 and below N is published as -1 (rates NaN, suppressed = 1); 0 turns it off")
      .at_least(0);
}

void SmallCellSuppression::check() const {
  if (min_cell_ < 0) throw InputError("option --min-cell must be 0 or more, got " + std::to_string(min_cell_));
}

}  // namespace pearl
