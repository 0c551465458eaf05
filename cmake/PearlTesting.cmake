# pearl_add_test(NAME <name> SOURCES <src>... [MPI_RANKS <n>...] [TIMEOUT <s>] [LABELS <l>...])
# pearl_add_golden_test(<job> <script> <env>...)
#
# pearl_add_test builds one GoogleTest program with the MPI-aware main (tests/support) and
# registers it
#   - as <name>, run in-process without a launcher (tests use simulated ranks there), and
#   - as <name>.mpi<N> under the MPI launcher with N ranks, for each N in MPI_RANKS.
# Every registration gets a timeout, so a hang fails the test instead of the CI run.
#
# pearl_add_golden_test registers a job's golden test (a Python script, recorded by
# pearl_add_job_test in jobs/CMakeLists.txt) as job.<job>, label e2e, run by /usr/bin/python3
# with the environment <env>... and tests/support on PYTHONPATH: the golden tests import
# their shared launcher and fixture writers from tests/support/pearl_testing.py.
include_guard(GLOBAL)

if(PEARL_MPI_FLAVOUR STREQUAL "openmpi")
  # Open MPI refuses more ranks than cores, and running as root, unless told; MPICH allows both.
  set(PEARL_MPIEXEC_FLAGS --oversubscribe)
  set(PEARL_MPI_TEST_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1)
else()
  set(PEARL_MPIEXEC_FLAGS)
  set(PEARL_MPI_TEST_ENV)
endif()
set(PEARL_MPIEXEC ${MPIEXEC_EXECUTABLE} CACHE INTERNAL "MPI launcher for tests")

function(pearl_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;MPI_RANKS;LABELS" ${ARGN})
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
endfunction()

function(pearl_add_golden_test job script)
  add_test(NAME job.${job} COMMAND /usr/bin/python3 ${script})
  set_tests_properties(job.${job} PROPERTIES LABELS e2e TIMEOUT 900
                       ENVIRONMENT "${ARGN};PYTHONPATH=${PROJECT_SOURCE_DIR}/tests/support")
endfunction()
