#!/usr/bin/env bash
# bench/transport/od.sh [N] — transport.od at 2 ranks vs pandas on the same N taps (default
# 100,000,000), then with --memory a quarter of the input; see od.py and
# docs/performance-transport.md. Needs ~10+ GiB free for pandas at 100M: check `free -g`.
# Environment: BENCH_DIR (default /tmp/pearl-bench-transport), PEARL (default
# build/bin/pearl), MPIRUN (default mpirun), MPIRUN_FLAGS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "bench/transport: $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg), $(free -g | awk '/Mem:/ {print $7" GiB available"}')"
exec /usr/bin/python3 "$here/od.py" run "${1:-100000000}"
