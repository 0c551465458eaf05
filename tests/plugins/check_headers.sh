#!/usr/bin/env bash
# Compiles the job API, pearl/job.hpp, and every public header of pearl/core on its own (a
# translation unit that includes only it), with only core/include and Eigen on the include
# path, and fails if one does not compile or pulls in an MPI, HDF5 or Boost header: a job
# or plugin author needs none of them (options are pearl's own declarations; the program
# parses them with Boost, privately). pearl/job.hpp must also compile without -fopenmp
# and pull in none of <omp.h>, <sys/mman.h>, <fstream> (the engine's machinery is in the
# program, core/src, not in the headers a plugin compiles).
# Usage: check_headers.sh CXX CORE_INCLUDE_DIR [OTHER_INCLUDE_DIR...]
set -u
cxx=${1:?usage: check_headers.sh CXX CORE_INCLUDE_DIR [INCLUDE_DIR...]}
core=${2:?}
shift 2
flags=(-std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -I "$core")
for d in "$@"; do
  case "$d" in /usr/include|/usr/local/include) ;;  # searched anyway; -isystem would reorder them
    *) flags+=(-isystem "$d") ;; esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
count=0
for header in "$core"/pearl/core/*.hpp; do
  rel=${header#"$core"/}
  printf '#include "%s"\n#include "%s"\n' "$rel" "$rel" > "$tmp/tu.cpp"  # twice: include guard
  if ! "$cxx" "${flags[@]}" -MD -MF "$tmp/deps" "$tmp/tu.cpp" -o /dev/null 2> "$tmp/err"; then
    echo "$rel does not compile on its own:"; head -20 "$tmp/err"; status=1; continue
  fi
  if grep -qE '(^|/)(mpi|hdf5|H5[A-Za-z]*)\.h\b' "$tmp/deps"; then
    echo "$rel pulls in an MPI or HDF5 header:"; grep -oE '[^ ]*(mpi|hdf5|H5[A-Za-z]*)\.h\b' "$tmp/deps" | head; status=1
  fi
  if grep -qE '(^|/)boost/' "$tmp/deps"; then
    echo "$rel pulls in a Boost header:"; grep -oE '[^ ]*/boost/[^ ]*' "$tmp/deps" | head -3; status=1
  fi
  count=$((count + 1))
done
printf '#include "pearl/job.hpp"\n' > "$tmp/tu.cpp"
if ! "$cxx" "${flags[@]}" -MD -MF "$tmp/deps" "$tmp/tu.cpp" -o /dev/null 2> "$tmp/err"; then
  echo "pearl/job.hpp does not compile on its own:"; head -20 "$tmp/err"; status=1
elif grep -qE '(^|/)(omp\.h|sys/mman\.h|fstream\b|boost/)' "$tmp/deps"; then
  echo "pearl/job.hpp pulls in machinery a job does not need:"
  grep -oE '[^ ]*(omp\.h|sys/mman\.h|/fstream\b|/boost/[^ ]*)' "$tmp/deps" | head
  status=1
fi
[ $status -eq 0 ] && echo "pearl/job.hpp and $count public core headers compile alone, without MPI, HDF5 or Boost (and the job API without OpenMP, mmap or file streams)"
exit $status
