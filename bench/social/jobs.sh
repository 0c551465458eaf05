#!/usr/bin/env bash
# social.compliance and social.unemployment against their pandas references (the golden
# tests' own `expected`, bench/social/pandas_reference.py) on data.generate's social data,
# interleaved and repeated: wall, user and system CPU seconds and peak RSS (GNU time) of
# each, pearl's --verbose phase lines, and a check that pearl's table equals the reference.
# Usage: bench/social/jobs.sh [DIR=/tmp/pearl-bench-social-jobs] [REPEATS=2]
# Environment: RANKS (default "1 2"), PEARL_MEMORY (2GiB), OUT (where pearl's result files
# go; default /tmp/pearl-bench-social-jobs-out: DIR may be read-only).
# Data: made once with `pearl run data.generate --domain social --rows 4000000 --shards 4
# --seed 5` (about 1.5 GB; pandas needs about 7 GB of memory for compliance).
set -euo pipefail
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-/tmp/pearl-bench-social-jobs}
repeats=${2:-2}
ranks=${RANKS:-1 2}
pearl=${PEARL_BIN:-$root/build/bin/pearl}
mpiexec=${MPIEXEC:-mpiexec.openmpi}
mem=${PEARL_MEMORY:-2GiB}
out=${OUT:-/tmp/pearl-bench-social-jobs-out}
mkdir -p "$out"
if [[ ! -f $dir/contributions-0000.h5 ]]; then
  "$pearl" run data.generate --domain social --rows 4000000 --shards 4 --seed 5 --out-dir "$dir"
fi
fmt='%e s wall, %U s user, %S s sys, max RSS %M KiB'
inputs_compliance=(--input "contributions=$dir/contributions-*.h5")
inputs_unemployment=(--input "unemployment=$dir/unemployment-*.h5" --input "labour_force=$dir/labour_force-*.h5")
uptime
for ((i = 1; i <= repeats; ++i)); do
  for job in compliance unemployment; do
    declare -n in="inputs_$job"
    for n in $ranks; do
      echo "== pearl social.$job, $n rank(s), --memory $mem (repeat $i)"
      /usr/bin/time -f "pearl $job $n: $fmt" "$mpiexec" -n "$n" "$pearl" run "social.$job" --memory "$mem" \
        "${in[@]}" --output "$out/$job-$n.h5" --overwrite --verbose 2>&1 | grep -v '^  '
    done
    echo "== pandas reference of social.$job (repeat $i)"
    /usr/bin/time -f "pandas $job: $fmt" /usr/bin/python3 "$root/bench/social/pandas_reference.py" "$job" "$dir" \
      "$out/$job-${ranks%% *}.h5"
  done
done
uptime
