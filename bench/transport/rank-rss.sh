#!/usr/bin/env bash
# rank-rss.sh PREFIX CMD... — runs CMD under /usr/bin/time, writing this rank's peak RSS
# (kB) to PREFIX.<rank> (Open MPI: OMPI_COMM_WORLD_RANK; MPICH: PMI_RANK).
prefix=$1; shift
exec /usr/bin/time -f "%M %U %S" -o "$prefix.${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}" "$@"
