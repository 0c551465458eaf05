#!/usr/bin/env bash
# social.anomalies at 1 and 2 ranks against pandas on the same data: wall time, CPU time
# (user + sys) and peak RSS of each (GNU time), and whether both found the same flags.
# Usage: bench/social/run.sh [N=20000000] [DIR=/tmp/pearl-bench-social]
#   DIR without data: bench/social/make_data.py writes N claims there first. DIR may also be
#   data.generate's output (`pearl run data.generate --domain social ...`); it is only read.
# Environment: PEARL_BIN, MPIEXEC, PEARL_MEMORY (2GiB), PEARL_RANKS ("1 2"), REPEAT (1).
# Needs build/bin/pearl (scripts/build). Check `free -g` first: pandas needs several GiB.
set -euo pipefail
# Open MPI refuses to start as root without these (CI and the dev VMs run as root).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-20000000}
dir=${2:-/tmp/pearl-bench-social}
pearl=${PEARL_BIN:-$root/build/bin/pearl}
mpiexec=${MPIEXEC:-mpiexec.openmpi}
mem=${PEARL_MEMORY:-2GiB}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
free -g
uptime
[[ -f $dir/deaths-0000.h5 ]] || /usr/bin/python3 "$root/bench/social/make_data.py" "$n" "$dir"
inputs=(--input "claims=$dir/claims-*.h5" --input "deaths=$dir/deaths-*.h5" --input "contributions=$dir/contributions-*.h5")
for _ in $(seq "${REPEAT:-1}"); do
  # Interleaved, so that a change in the machine's load touches both sides alike.
  for ranks in ${PEARL_RANKS:-1 2}; do
    echo "== pearl social.anomalies, $ranks rank(s), --memory $mem per rank"
    rm -f "$out/out.h5"
    /usr/bin/time -f "pearl $ranks: %e s wall, %U+%S s CPU (all ranks), max RSS of one rank %M KiB" \
      "$mpiexec" -n "$ranks" "$pearl" run social.anomalies --memory "$mem" "${inputs[@]}" --output "$out/out.h5" \
      --verbose 2>&1 | grep -Ev '^  |shuffle done|map: '
  done
  echo "== pandas (same rules, the golden test's reference implementation)"
  /usr/bin/time -f "pandas: %e s wall, %U+%S s CPU, max RSS %M KiB" /usr/bin/python3 "$root/bench/social/pandas_anomalies.py" "$dir"
done
