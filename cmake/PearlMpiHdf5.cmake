# MPI and the parallel HDF5 built against the same MPI.
#
# Debian ships parallel HDF5 per MPI flavour (/usr/include/hdf5/<flavour>,
# /usr/lib/<arch>/hdf5/<flavour>); linking the one that matches the MPI we build with
# is essential, so the flavour is detected from the launcher and the matching library
# is wrapped in the target `pearl_hdf5`. Elsewhere, FindHDF5 (parallel) is used.
include_guard(GLOBAL)
find_package(MPI REQUIRED COMPONENTS C CXX)

execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _pearl_mpiexec_version ERROR_VARIABLE _pearl_mpiexec_err)
if(_pearl_mpiexec_version MATCHES "Open MPI|OpenRTE")
  set(PEARL_MPI_FLAVOUR openmpi)
elseif(_pearl_mpiexec_version MATCHES "HYDRA|MPICH" OR _pearl_mpiexec_err MATCHES "HYDRA|MPICH")
  set(PEARL_MPI_FLAVOUR mpich)
else()
  set(PEARL_MPI_FLAVOUR unknown)
endif()
message(STATUS "pearl: MPI flavour ${PEARL_MPI_FLAVOUR} (${MPIEXEC_EXECUTABLE})")

find_path(PEARL_HDF5_INCLUDE_DIR hdf5.h PATHS /usr/include/hdf5/${PEARL_MPI_FLAVOUR} NO_DEFAULT_PATH)
find_library(PEARL_HDF5_LIBRARY hdf5 PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/hdf5/${PEARL_MPI_FLAVOUR} NO_DEFAULT_PATH)
add_library(pearl_hdf5 INTERFACE)
if(PEARL_HDF5_INCLUDE_DIR AND PEARL_HDF5_LIBRARY)
  target_include_directories(pearl_hdf5 SYSTEM INTERFACE ${PEARL_HDF5_INCLUDE_DIR})
  target_link_libraries(pearl_hdf5 INTERFACE ${PEARL_HDF5_LIBRARY} MPI::MPI_C)
else()
  set(HDF5_PREFER_PARALLEL ON)
  find_package(HDF5 REQUIRED COMPONENTS C)
  if(NOT HDF5_IS_PARALLEL)
    message(FATAL_ERROR "pearl needs parallel HDF5 built with the same MPI (Debian: libhdf5-${PEARL_MPI_FLAVOUR}-dev)")
  endif()
  target_include_directories(pearl_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS})
  target_link_libraries(pearl_hdf5 INTERFACE ${HDF5_C_LIBRARIES} MPI::MPI_C)
endif()
message(STATUS "pearl: HDF5 ${PEARL_HDF5_INCLUDE_DIR} ${PEARL_HDF5_LIBRARY}")
install(TARGETS pearl_hdf5 EXPORT pearlTargets)
