#include "pearl/core/options.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "pearl/core/error.hpp"

namespace pearl {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string item; std::getline(s, item, ',');) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

std::vector<std::string> parse_choices(const std::string& option, const std::string& text,
                                       const std::vector<std::string>& allowed, bool allow_empty) {
  std::string choices;
  for (const auto& a : allowed) choices += (choices.empty() ? "" : ", ") + a;
  const auto items = split_list(text);
  if (items.empty() && !allow_empty) {
    throw InputError("option --" + option + " needs at least one of: " + choices);
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (std::find(allowed.begin(), allowed.end(), items[i]) == allowed.end()) {
      throw InputError("option --" + option + ": '" + items[i] + "' is not one of: " + choices);
    }
    if (std::find(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(i), items[i]) !=
        items.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw InputError("option --" + option + ": '" + items[i] + "' is given twice");
    }
  }
  return items;
}

std::vector<double> parse_numbers(const std::string& option, const std::string& text, std::size_t count) {
  std::vector<double> out;
  for (const auto& item : split_list(text)) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !std::isfinite(v)) {
      throw InputError("option --" + option + ": '" + item + "' is not a number");
    }
    out.push_back(v);
  }
  if (count != 0 && out.size() != count) {
    throw InputError("option --" + option + " needs " + std::to_string(count) + " comma-separated numbers, got " +
                     std::to_string(out.size()) + " ('" + text + "')");
  }
  return out;
}

}  // namespace pearl
