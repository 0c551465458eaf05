#!/usr/bin/env bash
# Fails when core/ or jobs/ include MPI or HDF5 headers, OpenSSL is included outside
# jobs/privacy/, or io/ includes MPI outside its parallel-I/O unit: the public job API
# must stay free of MPI and HDF5 (docs/architecture.md). Also when jobs/ call the Communicator's raw collectives (allreduce, alltoallv, allgather,
# broadcast, barrier): exchanges are engine operations with their own tests (the engine,
# collectives.hpp, dense_reduce.hpp), which a job calls. And when jobs/ or examples/
# include any pearl header but the job API, pearl/job.hpp (pearl/core/eigen_collectives.hpp
# besides, for a job that links Eigen): never an internal/ or detail/ header.
set -u
root=${1:?usage: check_layering.sh PROJECT_ROOT}
status=0
hits=$(grep -rnE '#\s*include\s*[<"](mpi|hdf5|H5[A-Za-z]*)(\.h|\.hpp)?[>"]' "$root/core" "$root/jobs" 2>/dev/null)
if [ -n "$hits" ]; then
  echo "core/ and jobs/ must not include MPI or HDF5 headers:"; echo "$hits"; status=1
fi
hits=$(grep -rnE '(\.|->)\s*(allreduce|alltoallv|allgather|broadcast|barrier)\s*\(' "$root/jobs" 2>/dev/null)
if [ -n "$hits" ]; then
  echo "jobs/ must not call the Communicator's collectives; use the engine's operations:"; echo "$hits"; status=1
fi
hits=$(grep -rnE '#\s*include\s*[<"][^">]*/(internal|detail)/' "$root/jobs" "$root/examples" 2>/dev/null)
if [ -n "$hits" ]; then
  echo "jobs/ and examples/ must not include internal/ or detail/ headers (not API):"; echo "$hits"; status=1
fi
hits=$(grep -rnE '#\s*include\s*[<"]pearl/' "$root/jobs" "$root/examples" 2>/dev/null |
       grep -vE '#\s*include\s*[<"]pearl/(job\.hpp|core/eigen_collectives\.hpp)[">]')
if [ -n "$hits" ]; then
  echo "jobs/ and examples/ include the job API as one header, pearl/job.hpp:"; echo "$hits"; status=1
fi
# OpenSSL is the one library a job may use besides pearl::core, and only privacy's do
# (jobs/privacy/CMakeLists.txt links OpenSSL::Crypto there alone).
hits=$(grep -rnE '#\s*include\s*[<"]openssl/' "$root/core" "$root/io" "$root/cluster" "$root/jobs" 2>/dev/null | grep -v "^$root/jobs/privacy/")
if [ -n "$hits" ]; then
  echo "only jobs/privacy/ may include OpenSSL headers:"; echo "$hits"; status=1
fi
if [ -d "$root/io" ]; then
  hits=$(grep -rnE '#\s*include\s*[<"]mpi\.h[>"]' "$root/io" | grep -v '/parallel_' )
  if [ -n "$hits" ]; then
    echo "io/ may include <mpi.h> only in its parallel-I/O units (parallel_*):"; echo "$hits"; status=1
  fi
fi
[ $status -eq 0 ] && echo "layering ok"
exit $status
