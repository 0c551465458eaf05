// option_error_text: Boost.Program_options error messages without Boost's unbounded
// placeholder filling (see option_values.hpp).
#include <map>
#include <string>

#include "option_values.hpp"

namespace pearl::cluster {

namespace {

/// Boost keeps a message's substitutions protected; a derived class may name them, and a
/// pointer to member formed here reads them from any error (never instantiated).
struct ErrorFields : po::error_with_option_name {
  using Map = std::map<std::string, std::string>;
  using Defaults = std::map<std::string, std::pair<std::string, std::string>>;
  static const Map& substitutions(const po::error_with_option_name& e) { return e.*(&ErrorFields::m_substitutions); }
  static const Defaults& defaults(const po::error_with_option_name& e) {
    return e.*(&ErrorFields::m_substitution_defaults);
  }
  static std::string prefix(const po::error_with_option_name& e) {
    return (e.*(&ErrorFields::get_canonical_option_prefix))();
  }
};

/// The template with each "%name%" that has a value replaced once, left to right; the
/// values inserted are never searched again.
std::string fill_once(const std::string& text, const ErrorFields::Map& values) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '%') {
      const std::size_t end = text.find('%', i + 1);
      if (end != std::string::npos) {
        const auto it = values.find(text.substr(i + 1, end - i - 1));
        if (it != values.end()) {
          out += it->second;
          i = end + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace

std::string option_error_text(const po::error& e) {
  const auto* named = dynamic_cast<const po::error_with_option_name*>(&e);
  if (named == nullptr) return e.what();  // a fixed message: nothing to fill
  // As Boost's own substitute_placeholders, filling each placeholder once.
  ErrorFields::Map values = ErrorFields::substitutions(*named);
  values["canonical_option"] = named->get_option_name();
  values["prefix"] = ErrorFields::prefix(*named);
  for (const auto& [name, from_to] : ErrorFields::defaults(*named)) {
    const auto it = values.find(name);
    const auto& [from, to] = from_to;
    if ((it == values.end() || it->second.empty()) && from.size() > 2 && from.front() == '%' && from.back() == '%') {
      values[from.substr(1, from.size() - 2)] = to;
    }
  }
  std::string message = fill_once(named->m_error_template, values);
  if (const auto* ambiguous = dynamic_cast<const po::ambiguous_option*>(&e)) {
    std::string list;
    for (const auto& a : ambiguous->alternatives()) list += (list.empty() ? "" : ", ") + a;
    message += " and matches " + list;
  }
  return message;
}

}  // namespace pearl::cluster
