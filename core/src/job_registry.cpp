#include <algorithm>

#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"

namespace pearl {

JobRegistry& JobRegistry::instance() {
  static JobRegistry registry;  // constructed on first use: safe from static initialisers
  return registry;
}

bool JobRegistry::add(Factory make) {
  const auto probe = make();
  std::string name = probe->name();
  if (find(name) != nullptr) throw InputError("job '" + name + "' is registered twice");
  entries_.push_back({std::move(name), probe->summary(), std::move(make)});
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

}  // namespace pearl
