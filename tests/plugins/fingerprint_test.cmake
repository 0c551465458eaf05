# plugin_fingerprint: the header fingerprint a plugin is checked against
# (cmake/PearlHeadersFingerprint.cmake) changes when pearl/job.hpp or any header under
# pearl/core changes, pearl/core/detail/ included (the engine's templates are compiled
# into every plugin), and not when a header outside the job API changes (pearl/io).
#
#   cmake -DPEARL_SOURCE_DIR=<root> -DWORK_DIR=<scratch> -P fingerprint_test.cmake
include(${PEARL_SOURCE_DIR}/cmake/PearlHeadersFingerprint.cmake)
set(tree ${WORK_DIR}/include)
file(REMOVE_RECURSE ${tree})
file(COPY ${PEARL_SOURCE_DIR}/core/include/pearl DESTINATION ${tree})
file(COPY ${PEARL_SOURCE_DIR}/io/include/pearl DESTINATION ${tree})
pearl_headers_fingerprint(original ${tree})

function(expect_change what file)
  file(READ ${tree}/${file} text)
  file(APPEND ${tree}/${file} "// changed\n")
  pearl_headers_fingerprint(changed ${tree})
  file(WRITE ${tree}/${file} "${text}")
  pearl_headers_fingerprint(restored ${tree})
  if(changed STREQUAL original)
    message(FATAL_ERROR "a change to ${file} (${what}) left the fingerprint at ${original}")
  endif()
  if(NOT restored STREQUAL original)
    message(FATAL_ERROR "the fingerprint is not a function of the headers: ${restored} after restoring ${file}, ${original} before")
  endif()
endfunction()

expect_change("the job API" pearl/job.hpp)
expect_change("a public core header" pearl/core/engine.hpp)
expect_change("an engine template, not API" pearl/core/detail/reduce_sink.hpp)
file(GLOB io_headers ${tree}/pearl/io/*.hpp)
list(GET io_headers 0 io_header)
file(APPEND ${io_header} "// changed\n")
pearl_headers_fingerprint(after_io ${tree})
if(NOT after_io STREQUAL original)
  message(FATAL_ERROR "a change outside the job API (${io_header}) changed the fingerprint")
endif()
message(STATUS "fingerprint ${original} covers pearl/job.hpp, pearl/core and pearl/core/detail, and nothing else")
