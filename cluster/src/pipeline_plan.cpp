// Up to date or not: a task's output's recorded provenance against what it would be now.
#include "pearl/cluster/pipeline_plan.hpp"

#include <sys/stat.h>

// property_tree includes the deprecated boost/bind.hpp, which asks for this.
#define BOOST_BIND_GLOBAL_PLACEHOLDERS
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <map>
#include <set>
#include <sstream>

#include "pearl/cluster/cli.hpp"
#include "pearl/core/error.hpp"
#include "pearl/io/catalogue.hpp"
#include "pearl/io/provenance.hpp"

#ifndef PEARL_VERSION
#define PEARL_VERSION "unknown"
#endif

namespace pearl::cluster::pipeline {

namespace {

namespace pt = boost::property_tree;

pt::ptree parse_json(const std::string& text) {
  pt::ptree tree;
  std::istringstream in(text);
  pt::read_json(in, tree);
  return tree;
}

struct Recorded {
  std::uint64_t bytes = 0;
  std::int64_t mtime = 0;
  std::string checksum;
};

/// Why the shards now matched by the task's inputs differ from the recorded ones, or "".
std::string inputs_changed(const Task& task, const std::string& recorded_json) {
  std::map<std::string, Recorded> recorded;
  for (const auto& [_, in] : parse_json(recorded_json)) {
    recorded[in.get<std::string>("table") + "=" + in.get<std::string>("path")] = {
        in.get<std::uint64_t>("bytes", 0), in.get<std::int64_t>("mtime", 0), in.get<std::string>("checksum", "")};
  }
  std::set<std::string> now;
  for (const auto& text : task.inputs) {
    const auto spec = io::parse_input_spec(text);
    std::vector<std::filesystem::path> files;
    try {
      files = io::expand_glob(spec.glob);
    } catch (const InputError&) {
      return "input '" + text + "' matches no file now";
    }
    for (const auto& f : files) {
      const std::string key = spec.name + "=" + f.string();
      now.insert(key);
      const auto it = recorded.find(key);
      if (it == recorded.end()) return "new input shard " + f.string();
      struct stat st {};
      if (::stat(f.c_str(), &st) != 0) return "input shard " + f.string() + " cannot be read";
      if (static_cast<std::uint64_t>(st.st_size) != it->second.bytes) return "input shard " + f.string() + " changed size";
      if (static_cast<std::int64_t>(st.st_mtime) == it->second.mtime) continue;
      // Touched: the same bytes still count as the same input (content, not time), by
      // the algorithm the record names, so an older record's "h64:" still compares.
      if (it->second.checksum.empty() || io::file_checksum_like(f, it->second.checksum) != it->second.checksum) {
        return "input shard " + f.string() + " changed (content checksum)";
      }
    }
  }
  for (const auto& [key, _] : recorded) {
    if (now.count(key) == 0) return "input shard " + key.substr(key.find('=') + 1) + " is gone";
  }
  return {};
}

}  // namespace

std::string task_label(const Step& step, const Task& task) {
  return task.value.empty() ? step.name : step.name + "[" + task.value + "]";
}

std::string out_of_date(const Step& step, const Task& task) {
  if (task.output.empty()) return "no output file to compare (runs every time)";
  const auto rec = io::read_provenance(task.output);
  if (!rec) return "no output yet (" + task.output + ")";
  if (rec->job != step.job) return "output was made by job " + rec->job;
  if (rec->version != PEARL_VERSION) {
    return "output was made by pearl " + rec->version + ", this is " + std::string(PEARL_VERSION);
  }
  try {
    const auto now = task_parameters(step, task);
    const auto then = parse_json(rec->parameters);
    for (const auto& [name, value] : now) {
      const auto was = then.get_optional<std::string>(pt::ptree::path_type(name, '\0'));
      if (!was) return "parameter --" + name + " is new";
      if (*was != value) return "parameter --" + name + " changed (" + *was + " -> " + value + ")";
    }
    if (then.size() != now.size()) return "the job's parameters changed";
    return inputs_changed(task, rec->inputs);
  } catch (const pt::ptree_error& e) {
    return std::string("output's recorded provenance cannot be read (") + e.what() + ")";
  }
}

std::vector<Decision> plan(const Pipeline& p) {
  std::vector<Decision> out;
  std::set<std::string> running;
  for (const Step* s : p.order) {
    std::string upstream;
    for (const auto& n : s->needs) {
      if (running.count(n) != 0 && upstream.empty()) upstream = "upstream step " + n + " runs";
    }
    for (const auto& t : s->tasks) {
      Decision d{s, &t, true, upstream};
      if (upstream.empty()) {
        d.reason = out_of_date(*s, t);
        d.run = !d.reason.empty();
        if (!d.run) d.reason = "up to date (" + t.output + ")";
      }
      if (d.run) running.insert(s->name);
      out.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace pearl::cluster::pipeline
