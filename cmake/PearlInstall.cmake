# Install rules and the find_package(pearl) package: pearl::core (the job API),
# pearl::plugin with pearl_add_plugin() and pearl_add_plugin_test() (out-of-tree job
# plugins and their golden tests) and pearl::cluster,
# with their public dependencies found again by the consumer.
include(CMakePackageConfigHelpers)
install(TARGETS pearl_warnings EXPORT pearlTargets)  # PRIVATE-linked; exported empty of flags for consumers
install(EXPORT pearlTargets NAMESPACE pearl:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pearl)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/pearlConfig.cmake.in
  ${PROJECT_BINARY_DIR}/pearlConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pearl)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pearlConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/pearlConfig.cmake ${PROJECT_BINARY_DIR}/pearlConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/PearlPlugin.cmake ${PROJECT_SOURCE_DIR}/cmake/PearlPluginTest.cmake
              ${PROJECT_SOURCE_DIR}/cmake/PearlHeadersFingerprint.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pearl)
# The plugin writer's kit: the golden tests' Python helpers (pearl_add_plugin_test puts
# them on PYTHONPATH), and pearl-new-job with the job skeleton it copies
# (`pearl-new-job --plugin DIR FAMILY.NAME`).
install(FILES ${PROJECT_SOURCE_DIR}/tests/support/pearl_testing.py DESTINATION ${CMAKE_INSTALL_DATADIR}/pearl/python)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/new-job DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME pearl-new-job)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/jobs/_skeleton/ DESTINATION ${CMAKE_INSTALL_DATADIR}/pearl/skeleton)
