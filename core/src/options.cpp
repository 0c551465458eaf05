#include "pearl/core/options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <system_error>
#include <type_traits>

#include "pearl/core/error.hpp"

namespace pearl {

namespace {

template <class T>
std::string number_text(T v) {
  if constexpr (std::is_integral_v<T>) {
    return std::to_string(v);
  } else {
    std::ostringstream s;
    s << v;
    return s.str();
  }
}

/// A list option naming an item twice is a usage error (e.g. --sum a,a would add a
/// column twice to the output), found before any work.
void refuse_repeats(const std::string& option, const std::vector<std::string>& items) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (std::find(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(i), items[i]) !=
        items.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw InputError("option --" + option + ": '" + items[i] + "' is given twice");
    }
  }
}

}  // namespace

template <class T>
std::string domain_text(T min, T max, bool min_exclusive) {
  // Built by appending: GCC 12 warns falsely (-Wrestrict) on some chains of string +.
  const char* var = std::is_integral_v<T> ? "N" : "X";
  std::string out;
  if (max == std::numeric_limits<T>::max()) return out.append(var).append(min_exclusive ? ">" : ">=").append(number_text(min));
  if (min_exclusive) return out.append(number_text(min)).append("<").append(var).append("<=").append(number_text(max));
  return out.append(number_text(min)).append("..").append(number_text(max));
}

template <class T>
T parse_in_domain(const std::string& text, T min, T max, bool min_exclusive) {
  const std::string domain = domain_text(min, max, min_exclusive);
  const auto refuse = [&](const std::string& why) {
    return OptionValueError(text, std::string(why).append(" (domain ").append(domain).append(")"));
  };
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;  // from_chars takes no '+'
  T value{};
  std::from_chars_result r{};
  if constexpr (std::is_integral_v<T>) {
    if (std::is_unsigned_v<T> && first != last && *first == '-') throw refuse("is negative");
    r = std::from_chars(first, last, value);
    if (r.ec == std::errc::result_out_of_range) throw refuse("is out of range");
  } else {
    r = std::from_chars(first, last, value);
    if (r.ec == std::errc() && !std::isfinite(value)) throw refuse("is not a finite number");
  }
  if (first == last || r.ec != std::errc() || r.ptr != last) throw refuse("is not a number");
  if (value < min || value > max || (min_exclusive && value == min)) throw refuse("is not allowed");
  return value;
}

#define PEARL_DOMAIN_TYPE(T)                                                   \
  template std::string domain_text<T>(T, T, bool);                             \
  template T parse_in_domain<T>(const std::string&, T, T, bool);
PEARL_DOMAIN_TYPE(int)
PEARL_DOMAIN_TYPE(long)
PEARL_DOMAIN_TYPE(long long)
PEARL_DOMAIN_TYPE(unsigned)
PEARL_DOMAIN_TYPE(unsigned long)
PEARL_DOMAIN_TYPE(unsigned long long)
PEARL_DOMAIN_TYPE(double)
#undef PEARL_DOMAIN_TYPE

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
  auto items = split_list(text);
  if (items.empty() && !allow_empty) {
    throw InputError("option --" + option + " needs at least one of: " + choices);
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (std::find(allowed.begin(), allowed.end(), items[i]) == allowed.end()) {
      throw InputError("option --" + option + ": '" + items[i] + "' is not one of: " + choices);
    }
  }
  refuse_repeats(option, items);
  return items;
}

std::vector<std::string> parse_names(const std::string& option, const std::string& text, bool allow_empty) {
  auto items = split_list(text);
  if (items.empty() && !allow_empty) throw InputError("option --" + option + " needs at least one name");
  refuse_repeats(option, items);
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
