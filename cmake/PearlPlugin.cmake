# pearl_add_plugin(<target> <sources>...)
#
# Builds an out-of-tree job plugin: a MODULE library loaded by `pearl --plugin` or from a
# PEARL_PLUGIN_PATH directory. Its sources hold jobs (PEARL_REGISTER_JOB) and one
# PEARL_PLUGIN(...) entry point (pearl/core/plugin.hpp).
#
# The plugin links pearl::plugin, which carries pearl/core's headers, their fingerprint
# (PEARL_PLUGIN_HEADERS_FINGERPRINT) and dependencies but no library: the plugin's calls
# into pearl resolve at load time to the running `pearl` program, so there is one job
# registry per process. The plugin's version, recorded in its jobs' outputs, is the
# calling project's VERSION (project(acme VERSION 1.2.0)). Without a CMAKE_BUILD_TYPE the
# plugin is compiled with the Release flags (an unoptimised plugin ran 1.5x slower).
# Installed with the package (find_package(pearl) includes it) and used in-tree by tests/plugins.
include_guard(GLOBAL)

function(pearl_add_plugin target)
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE pearl::plugin)
  # Everything but the entry point could stay hidden; default visibility keeps the
  # plugin's typeinfo unique across the process (exceptions and dynamic_cast across it).
  set_target_properties(${target} PROPERTIES PREFIX "lib" SUFFIX ".so")
  target_compile_definitions(${target} PRIVATE PEARL_PLUGIN_BUILD_VERSION="${PROJECT_VERSION}")
  get_property(multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  if(NOT CMAKE_BUILD_TYPE AND NOT multi_config)
    separate_arguments(release_flags UNIX_COMMAND "${CMAKE_CXX_FLAGS_RELEASE}")
    target_compile_options(${target} PRIVATE ${release_flags})
  endif()
endfunction()
