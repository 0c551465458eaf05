#include "pearl/cluster/plugin_loader.hpp"

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <sstream>

#include "pearl/core/error.hpp"
#include "pearl/core/job.hpp"
#include "pearl/core/plugin.hpp"

namespace pearl::cluster {

namespace {

struct Loaded {
  std::string path;  // canonical
  std::string name;
  void* handle;      // never closed: registered factories point into the library
};

std::vector<Loaded>& loaded() {
  static std::vector<Loaded> plugins;
  return plugins;
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

std::size_t load_plugin(const std::filesystem::path& file) {
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
    if (p.path == real.string()) return 0;  // the same file through two routes
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
    if (p.handle == handle) {  // a hard link or copy the loader already knows
      registry.discard_plugin();
      return 0;
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
  if (info == nullptr || info->abi_version != PEARL_PLUGIN_ABI_VERSION) {
    registry.discard_plugin();
    throw InputError(what + ": built for plugin ABI version " +
                     (info == nullptr ? std::string("?") : std::to_string(info->abi_version)) +
                     ", but this pearl has ABI version " + std::to_string(PEARL_PLUGIN_ABI_VERSION) +
                     "; rebuild the plugin against this pearl installation");
  }
  const std::size_t jobs = registry.commit_plugin();  // throws when a name is taken
  if (jobs == 0) throw InputError(what + ": registers no jobs (PEARL_REGISTER_JOB in the plugin's sources)");
  loaded().push_back({real.string(), info->name != nullptr ? info->name : "", handle});
  return jobs;
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

void load_plugins(const std::vector<std::string>& files, const char* path_list) {
  for (const auto& f : files) load_plugin(f);
  if (path_list != nullptr && *path_list != '\0') {
    for (const auto& f : plugins_in_path(path_list)) load_plugin(f);
  }
}

std::vector<std::pair<std::string, std::string>> loaded_plugins() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : loaded()) out.emplace_back(p.path, p.name);
  return out;
}

}  // namespace pearl::cluster
