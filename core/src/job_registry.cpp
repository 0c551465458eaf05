#include <algorithm>

#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"

namespace pearl {

JobRegistry& JobRegistry::instance() {
  static JobRegistry registry;  // constructed on first use: safe from static initialisers
  return registry;
}

bool JobRegistry::add(Factory make) {
  if (staging_) {
    // A plugin's static initialisers: keep the factory, run nothing of the plugin's
    // until its entry point has been checked.
    staged_.push_back(std::move(make));
    return true;
  }
  const auto probe = make();
  std::string name = probe->name();
  if (const Entry* taken = find(name); taken != nullptr) {
    throw InputError("job '" + name + "' is registered twice (also " + taken->origin + ")");
  }
  entries_.push_back({std::move(name), probe->summary(), std::move(make), "built-in"});
  return true;
}

const JobRegistry::Entry* JobRegistry::find(const std::string& name) const {
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
  return it == entries_.end() ? nullptr : &*it;
}

std::vector<const JobRegistry::Entry*> JobRegistry::list() const {
  std::vector<const Entry*> out;
  for (const auto& e : entries_) out.push_back(&e);
  std::sort(out.begin(), out.end(), [](const Entry* a, const Entry* b) { return a->name < b->name; });
  return out;
}

void JobRegistry::begin_plugin(std::string origin) {
  staged_.clear();
  staging_origin_ = std::move(origin);
  staging_ = true;
}

std::size_t JobRegistry::commit_plugin() {
  staging_ = false;
  std::vector<Entry> adding;
  for (auto& make : staged_) {
    const auto probe = make();
    std::string name = probe->name();
    const Entry* taken = find(name);
    const bool twice = std::any_of(adding.begin(), adding.end(), [&](const Entry& e) { return e.name == name; });
    if (taken != nullptr || twice) {
      const std::string other = taken == nullptr ? "by this plugin" : taken->origin == "built-in"
                                                                         ? "by a built-in job"
                                                                         : "by plugin " + taken->origin;
      staged_.clear();
      throw InputError("plugin " + staging_origin_ + ": job name '" + name + "' is already taken " + other +
                       "; rename the job (Job::name) in the plugin");
    }
    adding.push_back({std::move(name), probe->summary(), std::move(make), staging_origin_});
  }
  staged_.clear();
  for (auto& e : adding) entries_.push_back(std::move(e));
  return adding.size();
}

void JobRegistry::discard_plugin() noexcept {
  staging_ = false;
  staged_.clear();
}

}  // namespace pearl
