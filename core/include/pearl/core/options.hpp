// pearl/core/options.hpp — the rules for option values: numeric domains and
// comma-separated lists.
//
// A job declares a number's domain where it declares the option (pearl/core/option_spec.hpp:
// `spec.option("shards", &shards_, 4, "...").at_least(1)`); the program checks it here
// when it parses the value, command line and --config alike, and shows it in --help in
// place of "arg" (`--shards N>=1 (=4)`). The parser is strict: the whole token is the
// number, "-5" is refused for an unsigned option, doubles must be finite.
//
// Lists are comma-separated ("--by region,disease"; "--methods C1,C3"). Jobs parse them
// here so that every job trims, rejects and names bad items the same way:
//
//   const auto by = pearl::parse_choices("by", by_, {"region", "disease", "sex", "year"});
//   const auto bounds = pearl::parse_numbers("bounds", bounds_, 4);
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "pearl/core/error.hpp"

namespace pearl {

/// A value outside its option's domain, or not a number: what() is "'-5' is negative
/// (domain N>=0)"; the program puts the option's name in front.
class OptionValueError : public InputError {
 public:
  OptionValueError(const std::string& value, const std::string& reason)
      : InputError("'" + value + "' " + reason), value_(value), reason_(reason) {}
  /// The text as given.
  [[nodiscard]] const std::string& value() const noexcept { return value_; }
  /// What is wrong and the domain: "is negative (domain N>=0)".
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::string value_;
  std::string reason_;
};

/// The text of a numeric domain, as --help shows it: "1..64", "N>=0" (no upper bound
/// but the type's), "X>0", "0..1". Defined for the integer types and double.
template <class T>
std::string domain_text(T min, T max, bool min_exclusive);

/// Reads `text` as a number of type T inside [min, max] (min excluded when
/// `min_exclusive`); throws OptionValueError saying what is wrong and the domain.
/// Defined for the integer types and double.
template <class T>
T parse_in_domain(const std::string& text, T min, T max, bool min_exclusive);

/// The items of a comma-separated list, blanks around them trimmed, empty items dropped.
std::vector<std::string> split_list(const std::string& text);

/// The items of `--option`'s list, each one of `allowed`, in the order given. Throws
/// InputError naming the option and the allowed values for an unknown or repeated item,
/// or for an empty list when `allow_empty` is false.
std::vector<std::string> parse_choices(const std::string& option, const std::string& text,
                                       const std::vector<std::string>& allowed, bool allow_empty = false);

/// `--option`'s list of column names (any names): trimmed, at least one unless
/// `allow_empty`; a name given twice is an InputError naming the option and the name.
std::vector<std::string> parse_names(const std::string& option, const std::string& text, bool allow_empty = true);

/// `--option`'s list as numbers; exactly `count` of them unless `count` is 0. Throws
/// InputError naming the option and the item that is not a finite number.
std::vector<double> parse_numbers(const std::string& option, const std::string& text, std::size_t count = 0);

}  // namespace pearl
