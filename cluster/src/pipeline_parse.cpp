// Parsing a pipeline file: sections into steps, variables, fan-out, resources. The lines
// themselves are read by pipeline_ini.cpp.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "pearl/cluster/pipeline.hpp"
#include "pearl/cluster/pipeline_record.hpp"
#include "pearl/core/error.hpp"
#include "pipeline_ini.hpp"

namespace pearl::cluster::pipeline {

namespace {

/// Expands ${name} from `vars`; an undefined name is a problem at (line, step).
class Expander {
 public:
  Expander(const std::map<std::string, std::string>& vars, Problems& problems) : vars_(vars), problems_(problems) {}

  std::string operator()(const std::string& text, int line, const std::string& step, int depth = 0) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
        out += text[i];
        continue;
      }
      const auto close = text.find('}', i + 2);
      if (close == std::string::npos) {
        problems_.push_back({line, step, "'${' without its closing '}' in '" + text + "'"});
        return out;
      }
      const std::string name = text.substr(i + 2, close - i - 2);
      const auto it = vars_.find(name);
      if (it == vars_.end()) {
        problems_.push_back({line, step, "undefined variable ${" + name + "} (define it under [variables] or with --set " +
                                             name + "=VALUE)"});
      } else if (depth > 16) {
        problems_.push_back({line, step, "variable ${" + name + "} refers to itself"});
      } else {
        out += (*this)(it->second, line, step, depth + 1);
      }
      i = close;
    }
    return out;
  }

 private:
  const std::map<std::string, std::string>& vars_;
  Problems& problems_;
};

const std::set<std::string> kResourceKeys = {"nodes", "tasks", "cpus", "time", "partition", "retries", "array_limit"};
const std::set<std::string> kStepKeys = {"job",   "input", "output", "options",   "after",   "for_each",   "nodes",
                                         "tasks", "cpus",  "time",   "partition", "retries", "array_limit"};

void set_resource(Resources& r, int& retries, const Entry& e, const std::string& step, Problems& problems) {
  if (e.key == "time" || e.key == "partition") {
    (e.key == "time" ? r.time : r.partition) = e.value;
    if (e.key == "time" && e.value.find_first_not_of("0123456789:-") != std::string::npos) {
      problems.push_back({e.line, step, "time '" + e.value + "' is not [D-]HH:MM:SS or minutes"});
    }
    return;
  }
  int v = -1;
  try {
    std::size_t used = 0;
    v = std::stoi(e.value, &used);
    if (used != e.value.size()) v = -1;
  } catch (const std::exception&) {
    v = -1;
  }
  const bool ok = e.key == "retries" ? v >= 0 : v >= 1;
  if (!ok) {
    problems.push_back({e.line, step, e.key + " = '" + e.value + "' is not " +
                                          (e.key == "retries" ? "a count (0 or more)" : "a positive integer")});
    return;
  }
  if (e.key == "nodes") r.nodes = v;
  if (e.key == "tasks") r.tasks = v;
  if (e.key == "cpus") r.cpus = v;
  if (e.key == "array_limit") r.array_limit = v;
  if (e.key == "retries") retries = v;
}

std::vector<std::string> fan_values(const std::string& spec, int line, const std::string& step, Problems& problems) {
  std::vector<std::string> values;
  if (!spec.empty() && spec.front() == '@') {
    std::ifstream in(spec.substr(1));
    if (!in) {
      problems.push_back({line, step, "cannot read the file of for_each values '" + spec.substr(1) + "'"});
      return values;
    }
    std::string l;
    while (std::getline(in, l)) {
      for (auto& w : split_words(trim(strip_comment(l)))) values.push_back(w);
    }
  } else {
    values = split_words(spec);
  }
  if (values.empty()) problems.push_back({line, step, "for_each gives no values"});
  return values;
}

Step make_step(const Section& sec, const Resources& base, int base_retries, std::map<std::string, std::string> vars,
               Problems& problems) {
  Step step;
  step.name = sec.name;
  step.line = sec.line;
  step.resources = base;
  step.retries = base_retries;
  if (step.name.empty()) problems.push_back({sec.line, "", "[step] needs a name: [step NAME]"});
  // for_each first: its variable is defined in the step's other values.
  std::vector<std::string> values{""};
  for (const auto& e : sec.entries) {
    if (e.key != "for_each") continue;
    const auto colon = e.value.find(':');
    step.fan_name = trim(e.value.substr(0, colon));
    if (colon == std::string::npos || step.fan_name.empty()) {
      problems.push_back({e.line, step.name, "for_each needs 'NAME: value value ...' or 'NAME: @FILE'"});
      continue;
    }
    Expander expand(vars, problems);
    values = fan_values(expand(trim(e.value.substr(colon + 1)), e.line, step.name), e.line, step.name, problems);
  }
  // Fan-out: one more pass with the value "{task}", the job array's template.
  if (!step.fan_name.empty()) values.push_back("{task}");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!step.fan_name.empty()) vars[step.fan_name] = values[i];
    Problems mine;
    Expander expand(vars, mine);
    Task task;
    task.value = values[i];
    for (const auto& e : sec.entries) {
      step.lines.emplace(e.key, e.line);
      if (kStepKeys.count(e.key) == 0) {
        if (i == 0) problems.push_back({e.line, step.name, "unknown key '" + e.key + "' in a step"});
        continue;
      }
      const std::string v = e.key == "for_each" ? "" : expand(e.value, e.line, step.name);
      if (e.key == "job") step.job = v;
      if (e.key == "input") task.inputs.push_back(v);
      if (e.key == "input" && i == 0) step.input_lines.push_back(e.line);
      if (e.key == "output") task.output = v;
      if (e.key == "options") {
        for (auto& w : split_words(v)) task.options.push_back(std::move(w));
      }
      if (e.key == "after" && i == 0) {
        std::string word;
        std::istringstream list(v);
        while (std::getline(list, word, ',')) {
          if (!trim(word).empty()) step.after.push_back(trim(word));
        }
      }
      if (kResourceKeys.count(e.key) != 0 && i == 0) {
        set_resource(step.resources, step.retries, {e.line, e.key, v}, step.name, problems);
      }
    }
    if (i == 0) problems.insert(problems.end(), mine.begin(), mine.end());
    step.tasks.push_back(std::move(task));
  }
  if (!step.fan_name.empty()) {
    step.array_task = std::move(step.tasks.back());
    step.tasks.pop_back();
  }
  if (step.job.empty() && !step.name.empty()) problems.push_back({sec.line, step.name, "step has no 'job = ...'"});
  return step;
}

}  // namespace

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (char c : text) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      else cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

Pipeline parse(const std::string& text, const std::string& file, const std::map<std::string, std::string>& set) {
  Pipeline p;
  p.file = file;
  p.name = std::filesystem::path(file).stem().string();
  const auto sections = read_sections(text, p.problems);

  // Variables: built-ins, then the file's, then --set; values expanded once all are known.
  std::map<std::string, std::string> raw = {{"date", utc_today()}, {"pipeline", p.name}};
  raw["here"] = std::filesystem::path(file).parent_path().string();
  if (raw["here"].empty()) raw["here"] = ".";
  std::map<std::string, int> var_lines;
  for (const auto& sec : sections) {
    if (sec.kind == "pipeline") {
      for (const auto& e : sec.entries) {
        if (e.key == "name") raw["pipeline"] = p.name = e.value;
      }
    }
    if (sec.kind != "variables") continue;
    for (const auto& e : sec.entries) {
      raw[e.key] = e.value;
      var_lines[e.key] = e.line;
    }
  }
  for (const auto& [k, v] : set) raw[k] = v;
  Expander expand(raw, p.problems);
  for (const auto& [k, v] : raw) p.variables[k] = expand(v, var_lines.count(k) ? var_lines[k] : 0, "");

  Resources base;
  int base_retries = 1;
  p.runs = "runs/" + p.name;
  for (const auto& sec : sections) {
    if (sec.kind == "pipeline") {
      for (const auto& e : sec.entries) {
        if (e.key == "runs") p.runs = expand(e.value, e.line, "");
        else if (e.key != "name" && e.key != "description") {
          p.problems.push_back({e.line, "", "unknown key '" + e.key + "' in [pipeline] (name, description, runs)"});
        }
      }
    } else if (sec.kind == "defaults") {
      for (const auto& e : sec.entries) {
        if (kResourceKeys.count(e.key) == 0) {
          p.problems.push_back({e.line, "", "unknown key '" + e.key + "' in [defaults] (nodes, tasks, cpus, time, "
                                            "partition, retries, array_limit)"});
        } else {
          set_resource(base, base_retries, {e.line, e.key, expand(e.value, e.line, "")}, "", p.problems);
        }
      }
    } else if (sec.kind != "step" && sec.kind != "variables") {
      p.problems.push_back({sec.line, "", "unknown section [" + sec.kind + "] (pipeline, variables, defaults, step NAME)"});
    }
  }
  for (const auto& sec : sections) {
    if (sec.kind != "step") continue;
    if (p.find(sec.name) != nullptr) p.problems.push_back({sec.line, sec.name, "a second step of this name"});
    p.steps.push_back(make_step(sec, base, base_retries, p.variables, p.problems));
  }
  if (p.steps.empty()) p.problems.push_back({0, "", "no steps ([step NAME] sections)"});
  return p;
}

Pipeline load(const std::string& file, const std::map<std::string, std::string>& set) {
  std::ifstream in(file);
  if (!in) throw InputError("cannot read pipeline file '" + file + "'");
  std::ostringstream text;
  text << in.rdbuf();
  Pipeline p = parse(text.str(), file, set);
  link(p);
  return p;
}

}  // namespace pearl::cluster::pipeline
