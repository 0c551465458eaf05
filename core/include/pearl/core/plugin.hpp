// pearl/core/plugin.hpp — the entry point of an out-of-tree job plugin.
//
// A plugin is a shared library holding one or more jobs, each registered with
// PEARL_REGISTER_JOB as in the source tree, plus exactly one entry point. Its sources
// include the job API, pearl/job.hpp, which includes this header too:
//
//   // my_plugin.cpp
//   #include "pearl/job.hpp"
//   PEARL_PLUGIN("acme", "ACME's health jobs");
//
// built against the installed package and loaded by the `pearl` program:
//
//   find_package(pearl REQUIRED)
//   pearl_add_plugin(acme_jobs my_plugin.cpp incidence.cpp)   # a MODULE library
//
//   $ pearl --plugin ./libacme_jobs.so jobs
//   $ export PEARL_PLUGIN_PATH=$HOME/pearl-plugins     # every *.so in these directories
//
// How a plugin is loaded (cluster/src/plugin_loader.cpp):
//   1. the file and its directory must not be writable by group or others (a plugin runs
//      its code in every job of whoever loads it), and must exist;
//   2. dlopen(RTLD_NOW | RTLD_LOCAL): undefined symbols are an error now, not mid-job;
//      the library's PEARL_REGISTER_JOBs are staged, not yet registered or run;
//   3. the extern "C" function `pearl_plugin_v1` must exist and report
//      PEARL_PLUGIN_ABI_VERSION equal to the program's, and the fingerprint of the
//      headers it was compiled with equal to the program's (see below); otherwise the
//      plugin is refused and must be rebuilt;
//   4. the staged jobs are registered; a name already taken refuses the plugin.
// Each refusal is one message and exit code 2. The same file named twice (--plugin and
// PEARL_PLUGIN_PATH) is loaded once, with a note saying so.
//
// The header fingerprint (PEARL_PLUGIN_HEADERS_FINGERPRINT) is a hash of pearl/job.hpp
// and every header under pearl/core (pearl/core/detail/ included: the engine's templates
// are compiled into the plugin, so their layout is part of the ABI), computed by CMake when pearl is built and when a plugin finds the
// installed package (cmake/PearlHeadersFingerprint.cmake) and set on pearl::plugin. It
// catches what a hand-bumped number misses: a struct changed, the plugin not rebuilt.
// The plugin's version (PEARL_PLUGIN_BUILD_VERSION: its CMake project's VERSION, set by
// pearl_add_plugin), path and fingerprint are recorded in the outputs of its jobs.
//
// One registry per process: a plugin does not contain pearl's core library. It is
// linked against headers only (pearl::plugin) and its references to pearl's functions
// (JobRegistry::instance, the engine, tables) resolve at load time to the `pearl`
// program, which exports its symbols (ENABLE_EXPORTS) and links all of core. The ABI is
// therefore that of the C++ classes in pearl/core: a plugin must be built against the
// same pearl headers (same PEARL_PLUGIN_ABI_VERSION and header fingerprint) with a
// compatible compiler.
#pragma once

/// The version of the C++ job API that plugins are compiled against. Bumped whenever a
/// class or function in pearl/core's public headers changes incompatibly; a plugin
/// reporting another version is refused.
/// Version 2: pearl_plugin_info gained headers_fingerprint and version.
/// Version 3: jobs include pearl/job.hpp; the engine's templates moved to pearl/core/detail
/// (namespace pearl::detail) and their non-template parts into the program; a map saves
/// its state with pearl::MapStateWriter / MapStateReader (pearl/core/map_state.hpp).
/// Version 4: jobs declare options with pearl's typed JobOptions (pearl/core/option_spec.hpp)
/// in place of Boost.Program_options; no public header includes Boost or OpenMP.
#define PEARL_PLUGIN_ABI_VERSION 4

#ifndef PEARL_PLUGIN_HEADERS_FINGERPRINT
/// Set by pearl::plugin (see above); empty when a plugin is compiled without it, which
/// the loader refuses.
#define PEARL_PLUGIN_HEADERS_FINGERPRINT ""
#endif
#ifndef PEARL_PLUGIN_BUILD_VERSION
/// The plugin's own version, recorded in its jobs' outputs (pearl_add_plugin sets it).
#define PEARL_PLUGIN_BUILD_VERSION ""
#endif

/// Name of the entry-point function (the `_v1` is the layout of pearl_plugin_info, whose
/// first member stays the ABI version in every later layout).
#define PEARL_PLUGIN_ENTRY_NAME "pearl_plugin_v1"

extern "C" {

/// What a plugin's entry point returns. Plain C, so it can be read whatever the ABI.
struct pearl_plugin_info {
  int abi_version;          ///< PEARL_PLUGIN_ABI_VERSION the plugin was built with
  const char* name;         ///< short name, for messages and `pearl jobs`
  const char* description;  ///< one line
  // Since ABI version 2 (read only when abi_version matches):
  const char* headers_fingerprint;  ///< PEARL_PLUGIN_HEADERS_FINGERPRINT it was compiled with
  const char* version;              ///< PEARL_PLUGIN_BUILD_VERSION ("" if none)
};

/// The entry point's type: returns static data, never null.
typedef const pearl_plugin_info* (*pearl_plugin_entry_fn)();
}

/// Defines the plugin's entry point. Use once per plugin, at global scope in one .cpp.
#define PEARL_PLUGIN(plugin_name, plugin_description)                                      \
  extern "C" __attribute__((visibility("default"))) const pearl_plugin_info* pearl_plugin_v1(); \
  extern "C" __attribute__((visibility("default"))) const pearl_plugin_info* pearl_plugin_v1() { \
    static const pearl_plugin_info info{PEARL_PLUGIN_ABI_VERSION, plugin_name, plugin_description,      \
                                        PEARL_PLUGIN_HEADERS_FINGERPRINT, PEARL_PLUGIN_BUILD_VERSION};  \
    return &info;                                                                          \
  }                                                                                        \
  static_assert(true, "")
