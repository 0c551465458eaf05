#include "pearl/cluster/plugin_loader.hpp"

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"
#include "pearl/core/plugin.hpp"

namespace pearl::cluster {

namespace {

struct Loaded {
  LoadedPlugin plugin;
  void* handle;  // never closed: registered factories point into the library
};

std::vector<Loaded>& loaded() {
  static std::vector<Loaded> plugins;
  return plugins;
}

std::string already_loaded_note(const std::filesystem::path& file, const Loaded& first) {
  return "plugin " + file.string() + " is the library already loaded as " + first.plugin.origin +
         "; loaded once (name it once: --plugin or PEARL_PLUGIN_PATH)";
}

/// Throws unless the plugin was compiled with this program's ABI version and headers.
void check_compatible(const pearl_plugin_info* info, const std::string& what) {
  if (info == nullptr || info->abi_version != PEARL_PLUGIN_ABI_VERSION) {
    throw InputError(what + ": built for plugin ABI version " +
                     (info == nullptr ? std::string("?") : std::to_string(info->abi_version)) +
                     ", but this pearl has ABI version " + std::to_string(PEARL_PLUGIN_ABI_VERSION) +
                     "; rebuild the plugin against this pearl installation");
  }
  const std::string theirs = info->headers_fingerprint != nullptr ? info->headers_fingerprint : "";
  if (theirs.empty()) {
    throw InputError(what + ": built without pearl's header fingerprint (compile it with pearl::plugin, e.g. "
                     "pearl_add_plugin after find_package(pearl)); rebuild the plugin against this pearl installation");
  }
  if (theirs != headers_fingerprint()) {
    throw InputError(what + ": built against other pearl headers (header fingerprint " + theirs +
                     ", this pearl has " + headers_fingerprint() +
                     "): its code may not match this pearl's classes; rebuild the plugin against this pearl installation");
  }
}

std::string octal_mode(mode_t mode) {
  std::ostringstream s;
  s << std::oct << (mode & 07777);
  return s.str();
}

void check_mode(const std::filesystem::path& path, const std::string& what, const std::string& subject) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InputError(what + ": cannot stat " + path.string());
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    throw InputError(what + ": refused: " + subject + " " + path.string() + " is writable by " +
                     ((st.st_mode & S_IWOTH) != 0 ? "others" : "its group") + " (mode " + octal_mode(st.st_mode) +
                     "), so someone else could make every job run their code; fix it with chmod go-w " +
                     path.string());
  }
}

}  // namespace

void check_not_writable_by_others(const std::filesystem::path& path, const std::string& what) {
  const bool is_dir = std::filesystem::is_directory(path);
  check_mode(path, what, is_dir ? "directory" : "file");
  check_mode(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path(), what,
             "its directory");
}

PluginLoad load_plugin(const std::filesystem::path& file) {
  const std::string what = "plugin " + file.string();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) throw InputError(what + ": no such file");
  if (std::filesystem::is_directory(file, ec)) {
    throw InputError(what + ": is a directory (give a library file, or list the directory in PEARL_PLUGIN_PATH)");
  }
  const std::filesystem::path real = std::filesystem::canonical(file, ec);
  if (ec) throw InputError(what + ": " + ec.message());
  check_not_writable_by_others(real, what);
  for (const auto& p : loaded()) {
    if (p.plugin.path == real.string()) return {0, already_loaded_note(file, p)};  // two routes, one file
  }

  auto& registry = JobRegistry::instance();
  registry.begin_plugin(file.string());
  ::dlerror();
  void* handle = ::dlopen(real.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    registry.discard_plugin();
    const char* why = ::dlerror();
    throw InputError(what + ": cannot load it: " + (why != nullptr ? why : "unknown dlopen error"));
  }
  for (const auto& p : loaded()) {
    if (p.handle == handle) {  // a hard link the loader already knows
      registry.discard_plugin();
      return {0, already_loaded_note(file, p)};
    }
  }
  ::dlerror();
  void* symbol = ::dlsym(handle, PEARL_PLUGIN_ENTRY_NAME);
  if (symbol == nullptr) {
    registry.discard_plugin();
    throw InputError(what + ": not a pearl plugin: it has no " PEARL_PLUGIN_ENTRY_NAME
                     " entry point (add PEARL_PLUGIN(\"name\", \"description\"); see docs/writing-a-job.md)");
  }
  // POSIX guarantees object and function pointers convert through dlsym's void*.
  const auto entry = reinterpret_cast<pearl_plugin_entry_fn>(symbol);
  const pearl_plugin_info* info = entry();
  try {
    check_compatible(info, what);
  } catch (...) {
    registry.discard_plugin();
    throw;
  }
  const std::size_t jobs = registry.commit_plugin();  // throws when a name is taken
  if (jobs == 0) throw InputError(what + ": registers no jobs (PEARL_REGISTER_JOB in the plugin's sources)");
  const auto text = [](const char* s) { return std::string(s != nullptr ? s : ""); };
  loaded().push_back({{real.string(), file.string(), text(info->name), text(info->version),
                       text(info->headers_fingerprint)},
                      handle});
  return {jobs, {}};
}

std::vector<std::filesystem::path> plugins_in_path(const std::string& path_list) {
  std::vector<std::filesystem::path> out;
  std::stringstream s(path_list);
  for (std::string dir; std::getline(s, dir, ':');) {
    if (dir.empty()) continue;
    const std::string what = "PEARL_PLUGIN_PATH directory " + dir;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) throw InputError(what + ": no such directory");
    check_not_writable_by_others(std::filesystem::canonical(dir, ec), what);
    std::vector<std::filesystem::path> here;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".so") here.push_back(e.path());
    }
    if (ec) throw InputError(what + ": " + ec.message());
    std::sort(here.begin(), here.end());
    out.insert(out.end(), here.begin(), here.end());
  }
  return out;
}

std::vector<std::string> load_plugins(const std::vector<std::string>& files, const char* path_list) {
  std::vector<std::string> notes;
  const auto load = [&](const std::filesystem::path& f) {
    PluginLoad done = load_plugin(f);
    if (!done.note.empty()) notes.push_back(std::move(done.note));
  };
  for (const auto& f : files) load(f);
  if (path_list != nullptr && *path_list != '\0') {
    for (const auto& f : plugins_in_path(path_list)) load(f);
  }
  return notes;
}

std::vector<LoadedPlugin> loaded_plugins() {
  std::vector<LoadedPlugin> out;
  for (const auto& p : loaded()) out.push_back(p.plugin);
  return out;
}

const LoadedPlugin* plugin_of_origin(const std::string& origin) {
  for (const auto& p : loaded()) {
    if (p.plugin.origin == origin) return &p.plugin;
  }
  return nullptr;
}

std::pair<std::string, std::string> job_provenance(const std::string& job, const std::string& builtin_version) {
  const JobRegistry::Entry* entry = JobRegistry::instance().find(job);
  const LoadedPlugin* plugin = entry == nullptr ? nullptr : plugin_of_origin(entry->origin);
  if (plugin == nullptr) return {builtin_version, ""};
  const nlohmann::ordered_json record = {{"path", plugin->path},
                                         {"name", plugin->name},
                                         {"version", plugin->version},
                                         {"headers_fingerprint", plugin->headers_fingerprint}};
  return {plugin->version.empty() ? "unversioned" : plugin->version, record.dump()};
}

std::string headers_fingerprint() { return PEARL_PLUGIN_HEADERS_FINGERPRINT; }

}  // namespace pearl::cluster
