// pearl/core/options.hpp — parsing job options: numeric domains and comma-separated lists.
//
// Numeric options declare their domain where they are declared, so every job checks
// them the same way at parse time (exit 2 naming the option and the domain), and
// `--help` and `pearl describe` show it in place of "arg" (e.g. `--shards N>=1 (=4)`):
//
//   spec.options().add_options()
//       ("shards", pearl::at_least(&shards_, 1), "shards per table")          // N>=1
//       ("slot-minutes", pearl::in_range(&slot_, 1, 10080), "slot length")    // 1..10080
//       ("per", pearl::positive(&per_)->default_value(1e5), "rates per ...")  // X>0
//
// The parser is strict: the whole token is the number, "-5" is refused for an unsigned
// option (Boost alone reads it as a huge number), doubles must be finite.
//
// Lists are comma-separated ("--by region,disease"; "--methods C1,C3"). Jobs parse them
// here so that every job trims, rejects and names bad items the same way:
//
//   const auto by = pearl::parse_choices("by", by_, {"region", "disease", "sex", "year"});
//   const auto bounds = pearl::parse_numbers("bounds", bounds_, 4);
#pragma once

#include <boost/program_options.hpp>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace pearl {

namespace po = boost::program_options;

/// The text of a numeric domain, as --help shows it: "1..64", "N>=0" (no upper bound
/// but the type's), "X>0", "0..1". Defined for the integer types and double.
template <class T>
std::string domain_text(T min, T max, bool min_exclusive);

/// Reads `text` as a number of type T inside [min, max] (min excluded when
/// `min_exclusive`); throws po::error_with_option_name (Boost adds the option's name)
/// saying what is wrong and the domain. Defined for the integer types and double.
template <class T>
T parse_in_domain(const std::string& text, T min, T max, bool min_exclusive);

/// An option value of type T that must lie in a domain, checked when it is parsed
/// (command line and --config alike). Make it with in_range, at_least or positive.
template <class T>
class BoundedValue final : public po::typed_value<T> {
 public:
  BoundedValue(T* target, T min, T max, bool min_exclusive)
      : po::typed_value<T>(target), min_(min), max_(max), min_exclusive_(min_exclusive) {
    this->value_name(domain_text<T>(min, max, min_exclusive));
  }
  void xparse(boost::any& store, const std::vector<std::string>& tokens) const override {
    if (tokens.size() != 1) throw po::invalid_syntax(po::invalid_syntax::missing_parameter);
    store = parse_in_domain<T>(tokens.front(), min_, max_, min_exclusive_);
  }

 private:
  T min_, max_;
  bool min_exclusive_;
};

/// An integer or double option in [min, max].
template <class T>
po::typed_value<T>* in_range(T* target, T min, T max) {
  return new BoundedValue<T>(target, min, max, false);
}
/// An integer or double option of at least `min` (for unsigned T, at_least(&x, 0u)
/// still matters: it refuses "-5").
template <class T>
po::typed_value<T>* at_least(T* target, T min) {
  return new BoundedValue<T>(target, min, std::numeric_limits<T>::max(), false);
}
/// A finite double option greater than 0.
inline po::typed_value<double>* positive(double* target) {
  return new BoundedValue<double>(target, 0.0, std::numeric_limits<double>::max(), true);
}

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

/// A comma-separated list of names bound to `target`, checked by parse_names when the
/// command line is parsed (a repeated name is a usage error before any work):
///   ("sum", pearl::name_list(&sum_, "sum")->default_value(""), "columns to sum")
po::typed_value<std::string>* name_list(std::string* target, const std::string& option);

/// `--option`'s list as numbers; exactly `count` of them unless `count` is 0. Throws
/// InputError naming the option and the item that is not a finite number.
std::vector<double> parse_numbers(const std::string& option, const std::string& text, std::size_t count = 0);

/// The message of a Boost.Program_options error; use it in place of e.what(). Boost 1.74
/// fills a message's placeholders ("%value%") until none is left, so a value that itself
/// contains "%value%" made what() loop forever (found by tests/fuzz, command_line). Here
/// each placeholder of the template is filled once, with the user's text as given.
std::string option_error_text(const po::error& e);

}  // namespace pearl
