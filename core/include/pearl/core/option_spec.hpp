// pearl/core/option_spec.hpp — how a job declares its options: typed, with defaults and
// domains, bound to the job's members. JobSpec (pearl/core/job.hpp) is a JobOptions, so a
// job calls these on the `spec` its declare() gets:
//
//   spec.option("by", &by_, "region,disease", "series key: region, disease, sex");  // a string, its default
//   spec.option("shards", &shards_, 4, "shards per table").at_least(1);             // --shards N>=1 (=4)
//   spec.option("slot-minutes", &slot_, 15, "slot length").in_range(1, 10080);      // 1..10080
//   spec.option("per", &per_, 1e5, "rates per this many person-years").positive();  // X>0
//   spec.option("alpha", &alpha_, "", "one-sided level").shown_as("0.001 for C1 and C2");
//   spec.option("sum", &sum_, "", "columns to sum").names();       // a list of names, none twice
//   spec.required("domain", &domain_, "health, social or transport");  // no default; must be given
//   spec.flag("only-alarms", &only_alarms_, "write only the rows with alarm = 1");
//   spec.repeated("derive", &derive_, "NAME=EXPR; repeatable");    // std::vector<std::string>
//
// The program parses them from the command line and from the `[JOB]` section of a
// `--config` file before run() is called, and shows them in `--help` and `pearl describe`
// (e.g. `--shards N>=1 (=4)`). A number with a domain is parsed strictly (the whole token
// is the number, "-5" is refused for an unsigned option, doubles are finite) and a value
// outside it is a usage error naming the option and the domain (pearl/core/options.hpp).
// Nothing here depends on how the program parses: a declaration is data.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace pearl {

/// A member an option is bound to, with its default and (numbers) its domain.
template <class T>
struct OptionTarget {
  T* target = nullptr;
  /// Absent: the option has no default (a required option, a flag, a repeated one).
  std::optional<T> default_value;
  /// Numbers: whether [min, max] (min excluded when `min_exclusive`) is checked.
  bool bounded = false;
  T min{};
  T max{};
  bool min_exclusive = false;
};

/// The types an option may be bound to.
using OptionBinding =
    std::variant<OptionTarget<int>, OptionTarget<long>, OptionTarget<long long>, OptionTarget<unsigned>,
                 OptionTarget<unsigned long>, OptionTarget<unsigned long long>, OptionTarget<double>,
                 OptionTarget<bool>, OptionTarget<std::string>, OptionTarget<std::vector<std::string>>>;

/// One declared option, as the program reads it.
struct OptionDecl {
  /// value: `--name VALUE`; flag: `--name` alone sets a bool; repeated: `--name V`
  /// any number of times, the values collected in order.
  enum class Kind : unsigned char { value, flag, repeated };
  std::string name;  ///< without the dashes: "min-count"
  std::string help;  ///< one line for --help and `pearl describe`
  Kind kind = Kind::value;
  OptionBinding binding;
  bool required = false;      ///< must be given (command line or --config)
  std::string shown_default;  ///< non-empty: --help shows this in place of the default
  bool names = false;         ///< a comma-separated list of names, none twice (parse_names)
};

class JobOptions;

/// What `JobOptions::option` and `required` return: refines the option just declared.
template <class T>
class OptionRef {
 public:
  OptionRef(JobOptions& options, std::size_t index) : options_(&options), index_(index) {}

  /// A number of at least `min` (for an unsigned T, at_least(0) still matters: it refuses "-5").
  OptionRef& at_least(T min)
    requires std::is_arithmetic_v<T> && (!std::is_same_v<T, bool>)
  {
    return bound(min, std::numeric_limits<T>::max(), false);
  }
  /// A number in [min, max].
  OptionRef& in_range(T min, T max)
    requires std::is_arithmetic_v<T> && (!std::is_same_v<T, bool>)
  {
    return bound(min, max, false);
  }
  /// A finite double greater than 0.
  OptionRef& positive()
    requires std::is_same_v<T, double>
  {
    return bound(0.0, std::numeric_limits<double>::max(), true);
  }
  /// A comma-separated list of names (e.g. columns), trimmed; a name given twice is a
  /// usage error before any work. Read it in run() with parse_names(option, text).
  OptionRef& names()
    requires std::is_same_v<T, std::string>;
  /// What --help shows as the default, when the default value itself says little
  /// (an empty string that means "chosen from the data").
  OptionRef& shown_as(const std::string& text);

 private:
  OptionRef& bound(T min, T max, bool min_exclusive);
  OptionDecl& decl();

  JobOptions* options_;
  std::size_t index_;
};

/// A job's declared options, in declaration order. JobSpec derives from it.
class JobOptions {
 public:
  /// `--name VALUE`, bound to `*target`, `default_value` when not given. T is int,
  /// long, long long, their unsigned forms, double, bool or std::string.
  template <class T>
  OptionRef<T> option(std::string name, T* target, std::type_identity_t<T> default_value, std::string help) {
    OptionTarget<T> t;
    t.target = target;
    t.default_value = std::move(default_value);
    return add<T>(std::move(name), std::move(help), OptionDecl::Kind::value, std::move(t), false);
  }
  /// `--name VALUE` that must be given; a missing one is a usage error before any work.
  template <class T>
  OptionRef<T> required(std::string name, T* target, std::string help) {
    OptionTarget<T> t;
    t.target = target;
    return add<T>(std::move(name), std::move(help), OptionDecl::Kind::value, std::move(t), true);
  }
  /// `--name` alone: sets `*target` to true (false when not given).
  void flag(std::string name, bool* target, std::string help) {
    OptionTarget<bool> t;
    t.target = target;
    add<bool>(std::move(name), std::move(help), OptionDecl::Kind::flag, t, false);
  }
  /// `--name VALUE`, any number of times: the values in the order given (command line
  /// first, then --config).
  void repeated(std::string name, std::vector<std::string>* target, std::string help) {
    OptionTarget<std::vector<std::string>> t;
    t.target = target;
    add<std::vector<std::string>>(std::move(name), std::move(help), OptionDecl::Kind::repeated, std::move(t), false);
  }

  /// The declared options (for the program's parser, --help, `pearl describe` and the
  /// output's attributes).
  [[nodiscard]] const std::vector<OptionDecl>& options() const noexcept { return options_; }

 private:
  template <class T>
  OptionRef<T> add(std::string name, std::string help, OptionDecl::Kind kind, OptionTarget<T> target, bool required) {
    OptionDecl d;
    d.name = std::move(name);
    d.help = std::move(help);
    d.kind = kind;
    d.binding = std::move(target);
    d.required = required;
    options_.push_back(std::move(d));
    return OptionRef<T>(*this, options_.size() - 1);
  }

  template <class T>
  friend class OptionRef;
  std::vector<OptionDecl> options_;
};

template <class T>
OptionDecl& OptionRef<T>::decl() {
  return options_->options_[index_];
}

template <class T>
OptionRef<T>& OptionRef<T>::bound(T min, T max, bool min_exclusive) {
  auto& t = std::get<OptionTarget<T>>(decl().binding);
  t.bounded = true;
  t.min = min;
  t.max = max;
  t.min_exclusive = min_exclusive;
  return *this;
}

template <class T>
OptionRef<T>& OptionRef<T>::names()
  requires std::is_same_v<T, std::string>
{
  decl().names = true;
  return *this;
}

template <class T>
OptionRef<T>& OptionRef<T>::shown_as(const std::string& text) {
  decl().shown_default = text;
  return *this;
}

}  // namespace pearl
