// job_options: a job's typed option declarations (pearl/core/option_spec.hpp) as a
// Boost.Program_options description, and the values parsed back as text for the
// output's attributes.
#include <iomanip>
#include <sstream>
#include <type_traits>
#include <variant>

#include "cli_parts.hpp"
#include "option_values.hpp"
#include "pearl/cluster/cli.hpp"

namespace pearl::cluster {
namespace {

/// Boost's value semantic for one declared option.
template <class T>
po::value_semantic* semantic(const OptionDecl& d, const OptionTarget<T>& t) {
  if constexpr (std::is_same_v<T, bool>) {
    if (d.kind == OptionDecl::Kind::flag) return po::bool_switch(t.target);
  }
  if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    return po::value(t.target)->composing();
  } else {
    po::typed_value<T>* v = nullptr;
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      v = t.bounded ? new BoundedValue<T>(t.target, t.min, t.max, t.min_exclusive) : po::value(t.target);
    } else {
      v = po::value(t.target);
    }
    if constexpr (std::is_same_v<T, std::string>) {
      if (d.names) {
        v->notifier([name = d.name](const std::string& text) { (void)parse_names(name, text); });
      }
    }
    if (t.default_value) {
      if (!d.shown_default.empty()) {
        v->default_value(*t.default_value, d.shown_default);
      } else if constexpr (std::is_same_v<T, bool>) {
        v->default_value(*t.default_value, *t.default_value ? "true" : "false");
      } else {
        v->default_value(*t.default_value);
      }
    }
    if (d.required) v->required();
    return v;
  }
}

/// The job's options with their effective values (given or default), for the output's
/// attributes: the record of how a result was produced.
std::string any_text(const boost::any& v) {
  if (const auto* x = boost::any_cast<std::string>(&v)) return *x;
  if (const auto* x = boost::any_cast<int>(&v)) return std::to_string(*x);
  if (const auto* x = boost::any_cast<long>(&v)) return std::to_string(*x);
  if (const auto* x = boost::any_cast<long long>(&v)) return std::to_string(*x);
  if (const auto* x = boost::any_cast<unsigned long>(&v)) return std::to_string(*x);
  if (const auto* x = boost::any_cast<unsigned long long>(&v)) return std::to_string(*x);
  if (const auto* x = boost::any_cast<unsigned>(&v)) return std::to_string(*x);
  if (const auto* x = boost::any_cast<bool>(&v)) return *x ? "true" : "false";
  if (const auto* x = boost::any_cast<double>(&v)) {
    std::ostringstream s;
    s << std::setprecision(17) << *x;
    return s.str();
  }
  if (const auto* x = boost::any_cast<std::vector<std::string>>(&v)) {
    std::string joined;
    for (const auto& e : *x) joined += (joined.empty() ? "" : ",") + e;
    return joined;
  }
  return "?";
}

}  // namespace

po::error_with_option_name domain_error(const OptionValueError& e) {
  // %canonical_option% is filled in by Boost with the option's name. The user's text is a
  // substitution, not part of the template, so a '%' in it is never read as a placeholder.
  po::error_with_option_name error("option '%canonical_option%': '%value%' " + e.reason());
  error.set_substitute("value", e.value());
  return error;
}

po::options_description job_options(const JobSpec& spec) {
  po::options_description d(spec.job_name() + " options");
  for (const auto& o : spec.options()) {
    po::value_semantic* s = std::visit([&](const auto& target) { return semantic(o, target); }, o.binding);
    d.add_options()(o.name.c_str(), s, o.help.c_str());
  }
  return d;
}

std::vector<std::pair<std::string, std::string>> job_parameters(const po::options_description& d,
                                                                const po::variables_map& vm) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& o : d.options()) {
    const auto it = vm.find(o->long_name());
    if (it != vm.end() && !it->second.empty()) out.emplace_back(o->long_name(), any_text(it->second.value()));
  }
  return out;
}

std::string job_options_text(const JobSpec& spec) {
  std::ostringstream out;
  out << job_options(spec);
  return out.str();
}

void parse_job_options(const JobSpec& spec, const std::vector<std::string>& args) {
  const po::options_description d = job_options(spec);
  po::variables_map vm;
  store_tokens(args, d, vm, "");
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    throw InputError(option_error_text(e));
  }
}

}  // namespace pearl::cluster
