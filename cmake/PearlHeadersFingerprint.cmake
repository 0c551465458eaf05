# pearl_headers_fingerprint(<out_var> <include_dir>)
#
# Sets <out_var> to the fingerprint of the public job API that plugins compile against:
# the first 16 hex digits of a SHA-256 over <include_dir>/pearl/job.hpp and every file
# under <include_dir>/pearl/core, pearl/core/detail included (relative path and contents,
# in path order). The detail headers are the engine's templates, compiled into every
# plugin: a change to one changes the fingerprint (tests/plugins/fingerprint_test.cmake). pearl computes it from its source tree;
# a plugin, from the headers it is compiled against (pearlConfig.cmake, when it is found).
# The plugin records its value (PEARL_PLUGIN in pearl/core/plugin.hpp) and the loader
# refuses a plugin whose value differs from the program's: a struct changed in a header
# without a bump of PEARL_PLUGIN_ABI_VERSION is caught too (a changed comment is as well,
# and costs a rebuild of the plugin: safer than deciding which changes are harmless).
#
#   pearl_headers_fingerprint(fp ${CMAKE_CURRENT_SOURCE_DIR}/include)
#   target_compile_definitions(x PRIVATE PEARL_PLUGIN_HEADERS_FINGERPRINT="${fp}")
#
# The headers become configure dependencies: editing one re-runs CMake, which recomputes
# the value (an added header is found by the CONFIGURE_DEPENDS glob).
include_guard(GLOBAL)

function(pearl_headers_fingerprint out_var include_dir)
  set(depends CONFIGURE_DEPENDS)
  if(CMAKE_SCRIPT_MODE_FILE)  # cmake -P (tests/plugins/fingerprint_test.cmake): nothing to re-run
    set(depends "")
  endif()
  file(GLOB_RECURSE headers ${depends} LIST_DIRECTORIES false "${include_dir}/pearl/core/*")
  if(EXISTS "${include_dir}/pearl/job.hpp")
    list(APPEND headers "${include_dir}/pearl/job.hpp")
  endif()
  list(SORT headers)
  set(listing "")
  foreach(header IN LISTS headers)
    file(RELATIVE_PATH rel "${include_dir}" "${header}")
    file(SHA256 "${header}" digest)
    string(APPEND listing "${rel} ${digest}\n")
  endforeach()
  if(listing STREQUAL "")
    message(FATAL_ERROR "pearl: no headers under ${include_dir}/pearl/core to fingerprint")
  endif()
  if(NOT CMAKE_SCRIPT_MODE_FILE)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${headers})
  endif()
  string(SHA256 fingerprint "${listing}")
  string(SUBSTRING "${fingerprint}" 0 16 fingerprint)
  set(${out_var} "${fingerprint}" PARENT_SCOPE)
endfunction()
