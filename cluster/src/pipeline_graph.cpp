// A pipeline's graph: dependencies (explicit and implied by inputs), producers, cycles,
// the order steps run in, and what lies downstream of a step.
#include <fnmatch.h>

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>

#include "pearl/cluster/pipeline.hpp"
#include "pearl/io/catalogue.hpp"
#include "pearl/core/error.hpp"

namespace pearl::cluster::pipeline {

std::vector<std::string> Task::run_args(const std::string& job) const {
  std::vector<std::string> args{job};
  args.insert(args.end(), options.begin(), options.end());
  for (const auto& in : inputs) args.insert(args.end(), {"--input", in});
  if (!output.empty()) args.insert(args.end(), {"--output", output});
  return args;
}

int Step::line_of(const std::string& key) const {
  const auto it = lines.find(key);
  return it == lines.end() ? line : it->second;
}

const Step* Pipeline::find(const std::string& step) const {
  for (const auto& s : steps) {
    if (s.name == step) return &s;
  }
  return nullptr;
}

std::vector<const Step*> Pipeline::downstream(const std::string& step) const {
  std::set<std::string> seen{step};
  std::vector<const Step*> out;
  for (const Step* s : order) {  // dependencies first: one pass suffices
    if (seen.count(s->name) != 0) continue;
    if (std::any_of(s->needs.begin(), s->needs.end(), [&](const std::string& n) { return seen.count(n) != 0; })) {
      seen.insert(s->name);
      out.push_back(s);
    }
  }
  return out;
}

namespace {

/// The glob part of an --input value NAME=GLOB[:/path], or "" if malformed.
std::string input_glob(const std::string& spec) {
  try {
    return io::parse_input_spec(spec).glob;
  } catch (const Error&) {
    return {};
  }
}

bool matches(const std::string& glob, const std::string& path) {
  return !glob.empty() && !path.empty() && ::fnmatch(glob.c_str(), path.c_str(), 0) == 0;
}

bool exists_on_disk(const std::string& glob) {
  try {
    return !io::expand_glob(glob).empty();
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

bool produced_by_a_step(const Pipeline& p, const std::string& input) {
  const std::string glob = input_glob(input);
  for (const auto& s : p.steps) {
    for (const auto& t : s.tasks) {
      if (matches(glob, t.output)) return true;
    }
  }
  return false;
}

void link(Pipeline& p) {
  for (auto& s : p.steps) {
    s.needs.clear();
    for (const auto& a : s.after) {
      if (p.find(a) == nullptr) {
        p.problems.push_back({s.line_of("after"), s.name, "after = " + a + ": no step of that name"});
      } else if (std::find(s.needs.begin(), s.needs.end(), a) == s.needs.end()) {
        s.needs.push_back(a);
      }
    }
    std::set<std::string> reported;
    for (const auto& task : s.tasks) {
      for (std::size_t k = 0; k < task.inputs.size(); ++k) {
        const std::string& in = task.inputs[k];
        const int line = k < s.input_lines.size() ? s.input_lines[k] : s.line_of("input");
        const std::string glob = input_glob(in);
        if (glob.empty()) {
          if (reported.insert(in).second) {
            p.problems.push_back({line, s.name, "input '" + in + "' is not NAME=GLOB[:/path]"});
          }
          continue;
        }
        bool produced = false;
        for (const auto& other : p.steps) {
          for (const auto& t : other.tasks) {
            if (!matches(glob, t.output)) continue;
            produced = true;
            if (std::find(s.needs.begin(), s.needs.end(), other.name) == s.needs.end()) s.needs.push_back(other.name);
          }
        }
        if (!produced && !exists_on_disk(glob) && reported.insert(in).second) {
          p.problems.push_back({line, s.name,
                                "input '" + in + "': no file matches '" + glob + "' and no step's output does"});
        }
      }
    }
  }
  // Depth-first order; a step met again while on the stack closes a cycle.
  std::map<std::string, int> state;  // 0 new, 1 on the stack, 2 done
  std::vector<std::string> stack;
  p.order.clear();
  std::function<void(const Step&)> visit = [&](const Step& s) {
    state[s.name] = 1;
    stack.push_back(s.name);
    for (const auto& n : s.needs) {
      const Step* dep = p.find(n);
      if (state[n] == 1) {
        std::string cycle;
        for (auto it = std::find(stack.begin(), stack.end(), n); it != stack.end(); ++it) cycle += *it + " -> ";
        p.problems.push_back({s.line, s.name, "dependency cycle: " + cycle + n});
      } else if (state[n] == 0 && dep != nullptr) {
        visit(*dep);
      }
    }
    stack.pop_back();
    state[s.name] = 2;
    p.order.push_back(&s);
  };
  for (const auto& s : p.steps) {
    if (state[s.name] == 0) visit(s);
  }
}

std::string format(const Pipeline& p, const Problems& problems) {
  std::ostringstream out;
  std::set<std::string> seen;
  for (const auto& pr : problems) {
    std::ostringstream line;
    line << p.file;
    if (pr.line > 0) line << ':' << pr.line;
    line << ": ";
    if (!pr.step.empty()) line << "step '" << pr.step << "': ";
    line << pr.message << '\n';
    if (seen.insert(line.str()).second) out << line.str();
  }
  return out.str();
}

}  // namespace pearl::cluster::pipeline
