# Install rules and the find_package(pearl) package: pearl::core (the job API),
# pearl::plugin with pearl_add_plugin() (out-of-tree job plugins) and pearl::cluster,
# with their public dependencies found again by the consumer.
include(CMakePackageConfigHelpers)
install(TARGETS pearl_warnings EXPORT pearlTargets)  # PRIVATE-linked; exported empty of flags for consumers
install(EXPORT pearlTargets NAMESPACE pearl:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pearl)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/pearlConfig.cmake.in
  ${PROJECT_BINARY_DIR}/pearlConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pearl)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pearlConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/pearlConfig.cmake ${PROJECT_BINARY_DIR}/pearlConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/PearlPlugin.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pearl)
