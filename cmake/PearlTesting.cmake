# pearl_add_test(NAME <name> SOURCES <src>... [MPI_RANKS <n>...] [TIMEOUT <s>] [LABELS <l>...]
#                [ODD_RANKS <n>... ODD_FILTER <gtest filter>])
# pearl_add_golden_test(<job> <script> <env>...)
#
# pearl_add_test builds one GoogleTest program with the MPI-aware main (tests/support) and
# registers it
#   - as <name>, run in-process without a launcher (tests use simulated ranks there), and
#   - as <name>.mpi<N> under the MPI launcher with N ranks, for each N in MPI_RANKS;
#   - as <name>.mpi<N> for each N in ODD_RANKS (e.g. 5 7), running only the tests that
#     ODD_FILTER selects: rank counts that do not divide the data evenly find partitioning
#     bugs that 1-4 ranks miss, and a subset keeps them cheap on an oversubscribed machine.
# Every registration gets a timeout, so a hang fails the test instead of the CI run.
#
# pearl_require_python_modules(<module>...) and pearl_require_r_packages(<package>...) stop
# the configuration with an error naming every missing module or package (and the Debian
# package that provides it): a test dependency that is missing is a configure error, never
# a smaller suite. The Python is PEARL_TEST_PYTHON (default /usr/bin/python3, Debian's).
#
# pearl_add_golden_test registers a job's golden test (a Python script, recorded by
# pearl_add_job_test in jobs/CMakeLists.txt) as job.<job>, label e2e, run by PEARL_TEST_PYTHON
# with the environment <env>... and tests/support on PYTHONPATH: the golden tests import
# their shared launcher and fixture writers from tests/support/pearl_testing.py.
include_guard(GLOBAL)

# The launcher flags and environment (PEARL_MPIEXEC_FLAGS, PEARL_MPI_TEST_ENV) and
# PEARL_TEST_PYTHON come from the installed plugin-test module, whose
# pearl_add_plugin_test() works here too, with the build's program and tests/support.
set(PEARL_MPIEXEC ${MPIEXEC_EXECUTABLE} CACHE INTERNAL "MPI launcher for tests")
set(PEARL_EXECUTABLE $<TARGET_FILE:pearl>)
set(PEARL_PYTHON_DIR ${PROJECT_SOURCE_DIR}/tests/support)
include(PearlPluginTest)

function(pearl_require_python_modules)
  # find_spec locates a module without importing it (statsmodels takes seconds to import).
  execute_process(COMMAND ${PEARL_TEST_PYTHON} -c
                  "import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
                  ${ARGN} OUTPUT_VARIABLE absent ERROR_VARIABLE error RESULT_VARIABLE rc)
  string(STRIP "${absent}" absent)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pearl tests: cannot run PEARL_TEST_PYTHON=${PEARL_TEST_PYTHON}: ${error}")
  endif()
  if(absent)
    set(missing)
    separate_arguments(absent)
    foreach(module IN LISTS absent)
      list(APPEND missing "${module} (Debian: python3-${module})")
    endforeach()
    list(JOIN missing ", " text)
    message(FATAL_ERROR "pearl tests: ${PEARL_TEST_PYTHON} cannot import ${text}. Install them "
                        "(scripts/setup does), set PEARL_TEST_PYTHON to a Python that has them, "
                        "or configure with -DPEARL_BUILD_TESTS=OFF.")
  endif()
endfunction()

function(pearl_require_r_packages)
  find_program(PEARL_RSCRIPT Rscript)
  if(NOT PEARL_RSCRIPT)
    message(FATAL_ERROR "pearl tests: no Rscript (Debian: r-base-core); the golden tests compare with R "
                        "packages ${ARGN}. Install it (scripts/setup does) or configure with -DPEARL_BUILD_TESTS=OFF.")
  endif()
  list(JOIN ARGN "\",\"" quoted)
  execute_process(COMMAND ${PEARL_RSCRIPT} -e
                  "p <- c(\"${quoted}\"); cat(p[!nzchar(vapply(p, function(x) system.file(package = x), \"\"))], sep = \" \")"
                  OUTPUT_VARIABLE missing ERROR_QUIET RESULT_VARIABLE rc)
  string(STRIP "${missing}" missing)
  if(NOT rc EQUAL 0 OR missing)
    message(FATAL_ERROR "pearl tests: R lacks the package(s) ${missing} (Debian: r-cran-<name>); "
                        "the golden tests compare with them. Install them (scripts/setup does) or "
                        "configure with -DPEARL_BUILD_TESTS=OFF.")
  endif()
endfunction()

function(pearl_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT;ODD_FILTER" "SOURCES;MPI_RANKS;ODD_RANKS;LABELS" ${ARGN})
  if(T_ODD_RANKS AND NOT T_ODD_FILTER)
    message(FATAL_ERROR "pearl_add_test(${T_NAME}): ODD_RANKS needs ODD_FILTER")
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE pearl_test_main pearl_warnings)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "unit;${T_LABELS}"
                       ENVIRONMENT "${PEARL_MPI_TEST_ENV}")
  foreach(n IN LISTS T_MPI_RANKS)
    add_test(NAME ${T_NAME}.mpi${n}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} ${PEARL_MPIEXEC_FLAGS} ${MPIEXEC_PREFLAGS}
                     $<TARGET_FILE:${T_NAME}> ${MPIEXEC_POSTFLAGS})
    set_tests_properties(${T_NAME}.mpi${n} PROPERTIES TIMEOUT ${T_TIMEOUT} PROCESSORS ${n}
                         LABELS "mpi;${T_LABELS}" ENVIRONMENT "${PEARL_MPI_TEST_ENV}")
  endforeach()
  foreach(n IN LISTS T_ODD_RANKS)
    add_test(NAME ${T_NAME}.mpi${n}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} ${PEARL_MPIEXEC_FLAGS} ${MPIEXEC_PREFLAGS}
                     $<TARGET_FILE:${T_NAME}> ${MPIEXEC_POSTFLAGS} --gtest_filter=${T_ODD_FILTER})
    set_tests_properties(${T_NAME}.mpi${n} PROPERTIES TIMEOUT ${T_TIMEOUT} PROCESSORS ${n}
                         LABELS "mpi;odd_ranks;${T_LABELS}" ENVIRONMENT "${PEARL_MPI_TEST_ENV}")
  endforeach()
endfunction()

function(pearl_add_golden_test job script)
  add_test(NAME job.${job} COMMAND ${PEARL_TEST_PYTHON} ${script})
  set_tests_properties(job.${job} PROPERTIES LABELS e2e TIMEOUT 900
                       ENVIRONMENT "${ARGN};PYTHONPATH=${PROJECT_SOURCE_DIR}/tests/support")
endfunction()
