# pearl_add_plugin(<target> <sources>...)
#
# Builds an out-of-tree job plugin: a MODULE library loaded by `pearl --plugin` or from a
# PEARL_PLUGIN_PATH directory. Its sources hold jobs (PEARL_REGISTER_JOB) and one
# PEARL_PLUGIN(...) entry point (pearl/core/plugin.hpp).
#
# The plugin links pearl::plugin, which carries pearl/core's headers and dependencies but
# no library: the plugin's calls into pearl resolve at load time to the running `pearl`
# program, so there is one job registry per process. Installed with the package
# (find_package(pearl) includes it) and used in-tree by tests/plugins.
include_guard(GLOBAL)

function(pearl_add_plugin target)
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE pearl::plugin)
  # Everything but the entry point could stay hidden; default visibility keeps the
  # plugin's typeinfo unique across the process (exceptions and dynamic_cast across it).
  set_target_properties(${target} PROPERTIES PREFIX "lib" SUFFIX ".so")
endfunction()
