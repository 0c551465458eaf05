#!/usr/bin/env bash
# social.anomalies at 2 ranks against pandas on the same synthetic data; wall time and peak
# RSS of each (GNU time). Usage: bench/social/run.sh [N=20000000] [DIR=/tmp/pearl-bench-social]
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
free -g
[[ -f $dir/deaths-0000.h5 ]] || /usr/bin/python3 "$root/bench/social/make_data.py" "$n" "$dir"
echo "== pearl social.anomalies, 2 ranks, --memory $mem per rank"
/usr/bin/time -f "pearl: %e s wall, max RSS of one rank %M KiB" \
  "$mpiexec" -n 2 "$pearl" run social.anomalies --memory "$mem" \
  --input "claims=$dir/claims-*.h5" --input "deaths=$dir/deaths-*.h5" \
  --input "contributions=$dir/contributions-*.h5" --output "$dir/out.h5" --verbose 2>&1 | grep -v '^  '
echo "== pandas (same rules, tests' reference implementation)"
/usr/bin/time -f "pandas: %e s wall, max RSS %M KiB" /usr/bin/python3 "$root/bench/social/pandas_anomalies.py" "$dir"
