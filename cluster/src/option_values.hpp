// option_values.hpp (internal) — pearl's option declarations in Boost.Program_options: the
// one place the program meets Boost's parser. Jobs declare typed options (JobOptions,
// pearl/core/option_spec.hpp); job_options() turns them into a Boost description, numbers
// with a domain into a BoundedValue (the domain shown in place of "arg", checked by
// parse_in_domain), name lists into values whose notifier checks them.
//
//   po::options_description all;
//   all.add(job_options(spec)).add(global_options(g));   // as parse_run does
//   ("threads", in_range(&g.threads, 1, 64)->default_value(1), "map threads")  // a global option
#pragma once

#include <boost/program_options.hpp>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/job.hpp"
#include "pearl/core/options.hpp"

namespace pearl::cluster {

namespace po = boost::program_options;

/// Boost's error for a value parse_in_domain refused: "option '--rows': '-5' is negative
/// (domain N>=0)", with the name Boost fills in (command line and --config alike).
po::error_with_option_name domain_error(const OptionValueError& e);

/// An option value of type T that must lie in a domain, checked when it is parsed.
template <class T>
class BoundedValue final : public po::typed_value<T> {
 public:
  BoundedValue(T* target, T min, T max, bool min_exclusive)
      : po::typed_value<T>(target), min_(min), max_(max), min_exclusive_(min_exclusive) {
    this->value_name(domain_text<T>(min, max, min_exclusive));
  }
  void xparse(boost::any& store, const std::vector<std::string>& tokens) const override {
    if (tokens.size() != 1) throw po::invalid_syntax(po::invalid_syntax::missing_parameter);
    try {
      store = parse_in_domain<T>(tokens.front(), min_, max_, min_exclusive_);
    } catch (const OptionValueError& e) {
      throw domain_error(e);
    }
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
/// An integer or double option of at least `min`.
template <class T>
po::typed_value<T>* at_least(T* target, T min) {
  return new BoundedValue<T>(target, min, std::numeric_limits<T>::max(), false);
}

/// The job's declared options as Boost's description (caption "JOB options"), bound to
/// the job's members: what --help and `pearl describe` print and parse_run parses.
po::options_description job_options(const JobSpec& spec);

/// The job's options with their effective values (given or default), for the output's
/// attributes: the record of how a result was produced.
std::vector<std::pair<std::string, std::string>> job_parameters(const po::options_description& d,
                                                                const po::variables_map& vm);

/// The message of a Boost.Program_options error; use it in place of e.what(). Boost 1.74
/// fills a message's placeholders ("%value%") until none is left, so a value that itself
/// contains "%value%" made what() loop forever (found by tests/fuzz, command_line). Here
/// each placeholder of the template is filled once, with the user's text as given.
std::string option_error_text(const po::error& e);

}  // namespace pearl::cluster
