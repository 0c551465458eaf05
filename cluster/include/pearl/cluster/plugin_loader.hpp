// pearl/cluster/plugin_loader.hpp — loads out-of-tree job plugins into the job registry.
//
//   for (const auto& note : pearl::cluster::load_plugins(take_plugin_args(args), std::getenv("PEARL_PLUGIN_PATH")))
//     err << "pearl: note: " << note << '\n';   // on rank 0
//
// The rules (existence, permissions, entry point, ABI version, job names) are listed in
// pearl/core/plugin.hpp; every refusal is an InputError (exit 2) naming the plugin.
// The runner records the plugin of the job it runs (plugin_of_origin) in the outputs.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace pearl::cluster {

/// A plugin that was loaded: what its outputs record (attribute `plugin`).
struct LoadedPlugin {
  std::string path;                 ///< canonical path of the library
  std::string origin;               ///< the path as first named: its jobs' JobRegistry origin
  std::string name;                 ///< from its entry point
  std::string version;              ///< its PEARL_PLUGIN_BUILD_VERSION ("" if none)
  std::string headers_fingerprint;  ///< equal to this program's (or it was refused)
};

/// What loading one file did: the jobs it added, or (none added) a note that the same
/// library had been loaded already, through another name or route.
struct PluginLoad {
  std::size_t jobs = 0;
  std::string note;
};

/// Loads one plugin library and registers its jobs. The same file named twice (e.g. via
/// --plugin and PEARL_PLUGIN_PATH, or a hard link) is loaded once; the second load
/// returns a note saying so.
PluginLoad load_plugin(const std::filesystem::path& file);

/// Every `*.so` in each directory of a colon-separated list (empty entries skipped),
/// in name order. The directories themselves are checked like plugin files.
std::vector<std::filesystem::path> plugins_in_path(const std::string& path_list);

/// Loads `files` (from --plugin) and then the libraries of `path_list` (PEARL_PLUGIN_PATH;
/// null or empty: none). Returns the notes of libraries named more than once, for rank 0
/// to print.
std::vector<std::string> load_plugins(const std::vector<std::string>& files, const char* path_list);

/// Throws InputError if `path` (a plugin or a plugin directory) is writable by group or
/// others, or lies in a directory that is. `what` names it in the message.
void check_not_writable_by_others(const std::filesystem::path& path, const std::string& what);

/// Plugins loaded so far, in load order.
std::vector<LoadedPlugin> loaded_plugins();

/// The plugin whose jobs carry `origin` (JobRegistry::Entry::origin); null for built-in.
const LoadedPlugin* plugin_of_origin(const std::string& origin);

/// What a run of `job` records about its code (output attributes `job_version` and
/// `plugin`): for a plugin's job, the plugin's version ("unversioned" if it set none) and
/// a JSON object {"path", "name", "version", "headers_fingerprint"}; for a built-in job,
/// `builtin_version` and "".
std::pair<std::string, std::string> job_provenance(const std::string& job, const std::string& builtin_version);

/// The fingerprint of the pearl/core headers this program was built from, which every
/// plugin must have been compiled with (pearl/core/plugin.hpp).
std::string headers_fingerprint();

}  // namespace pearl::cluster
