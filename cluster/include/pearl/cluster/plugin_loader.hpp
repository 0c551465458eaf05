// pearl/cluster/plugin_loader.hpp — loads out-of-tree job plugins into the job registry.
//
//   pearl::cluster::load_plugins(plugin_paths_from_args(args), std::getenv("PEARL_PLUGIN_PATH"));
//
// The rules (existence, permissions, entry point, ABI version, job names) are listed in
// pearl/core/plugin.hpp; every refusal is an InputError (exit 2) naming the plugin.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace pearl::cluster {

/// Loads one plugin library and registers its jobs. Loading the same file twice (e.g.
/// via --plugin and PEARL_PLUGIN_PATH) loads it once. Returns the number of jobs added.
std::size_t load_plugin(const std::filesystem::path& file);

/// Every `*.so` in each directory of a colon-separated list (empty entries skipped),
/// in name order. The directories themselves are checked like plugin files.
std::vector<std::filesystem::path> plugins_in_path(const std::string& path_list);

/// Loads `files` (from --plugin) and then the libraries of `path_list` (PEARL_PLUGIN_PATH;
/// null or empty: none).
void load_plugins(const std::vector<std::string>& files, const char* path_list);

/// Throws InputError if `path` (a plugin or a plugin directory) is writable by group or
/// others, or lies in a directory that is. `what` names it in the message.
void check_not_writable_by_others(const std::filesystem::path& path, const std::string& what);

/// Plugins loaded so far: (path, plugin name from its entry point).
std::vector<std::pair<std::string, std::string>> loaded_plugins();

}  // namespace pearl::cluster
