# pearl_add_plugin_test(NAME <name> PLUGIN <target> SCRIPT <test.py>
#                       [RANKS <n>...] [TIMEOUT <s>] [LABELS <label>...])
#
# Registers a plugin's golden test (a Python script using pearl_testing) once per rank
# count, as <name>.ranks<N> (RANKS default: 1 2 3), each run by PEARL_TEST_PYTHON with:
#   PEARL_BIN         the pearl program (the installed one, or the build's in-tree)
#   PEARL_PLUGIN      the plugin library, which pearl_testing passes as --plugin
#   PEARL_TEST_RANKS  N: pearl_testing.RANKS, the rank counts the script runs the job at
#   MPIEXEC, MPIEXEC_FLAGS and (Open MPI) the variables that let it oversubscribe and
#   run as root: the launcher of the MPI pearl was built with
#   PYTHONPATH        the folder holding pearl_testing.py
# and PEARL_PLUGIN_PATH cleared, so plugins of the environment cannot interfere.
#
#   find_package(pearl REQUIRED)
#   pearl_add_plugin(acme_jobs plugin.cpp incidence.cpp)
#   enable_testing()
#   pearl_add_plugin_test(NAME job.acme.incidence PLUGIN acme_jobs
#                         SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_acme_incidence.py)
#   $ ctest --output-on-failure     # job.acme.incidence.ranks1, .ranks2, .ranks3
#
# Installed with the package (pearlConfig.cmake sets PEARL_EXECUTABLE, PEARL_PYTHON_DIR,
# PEARL_MPIEXEC and PEARL_MPI_FLAVOUR); in the source tree cmake/PearlTesting.cmake does.
# No include guard: included again by a second find_package(pearl), it defines the same.

if(PEARL_MPI_FLAVOUR STREQUAL "openmpi")
  # Open MPI refuses more ranks than cores, and running as root, unless told; MPICH allows both.
  set(PEARL_MPIEXEC_FLAGS --oversubscribe)
  set(PEARL_MPI_TEST_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1)
else()
  set(PEARL_MPIEXEC_FLAGS)
  set(PEARL_MPI_TEST_ENV)
endif()
set(PEARL_TEST_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with the golden tests' modules (h5py, pandas, ...)")

function(pearl_add_plugin_test)
  cmake_parse_arguments(T "" "NAME;PLUGIN;SCRIPT;TIMEOUT" "RANKS;LABELS" ${ARGN})
  if(NOT T_NAME OR NOT T_PLUGIN OR NOT T_SCRIPT)
    message(FATAL_ERROR "pearl_add_plugin_test needs NAME, PLUGIN (a pearl_add_plugin target) and SCRIPT")
  endif()
  if(NOT T_RANKS)
    set(T_RANKS 1 2 3)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if(NOT T_LABELS)
    set(T_LABELS e2e)
  endif()
  list(JOIN PEARL_MPIEXEC_FLAGS " " flags)
  foreach(n IN LISTS T_RANKS)
    add_test(NAME ${T_NAME}.ranks${n} COMMAND ${PEARL_TEST_PYTHON} ${T_SCRIPT})
    set_tests_properties(${T_NAME}.ranks${n} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}" PROCESSORS ${n}
      ENVIRONMENT "PEARL_BIN=${PEARL_EXECUTABLE};PEARL_PLUGIN=$<TARGET_FILE:${T_PLUGIN}>;PEARL_TEST_RANKS=${n};MPIEXEC=${PEARL_MPIEXEC};MPIEXEC_FLAGS=${flags};PYTHONPATH=${PEARL_PYTHON_DIR};PEARL_PLUGIN_PATH=;${PEARL_MPI_TEST_ENV}")
  endforeach()
endfunction()
