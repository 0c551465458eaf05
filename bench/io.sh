#!/usr/bin/env bash
# bench/io.sh [ROWS] — the I/O and table.aggregate benchmark (docs/performance.md,
# "I/O and table.aggregate (bench/io)"). ROWS defaults to 100,000,000; pass fewer for a
# quick run. Everything is measured in this one invocation, each timing the best of 3:
#   (a) io::TableSource over k1,k2 vs plain H5Dread of both datasets (bench/io read)
#   (b) pearl run table.aggregate --by k1,k2 at 1 and 2 ranks vs a hand-written
#       H5Dread + hash-map loop (bench/io loop)
#   (c) pearl at 2 ranks vs pandas and a 2-thread Dask dataframe (bench/io.py)
#   (d) the same on a shuffle+gzip copy: pearl at 2 ranks vs the hand-written loop
#   and, to read (b) by: two 1-rank runs pinned to one cpu each, at once, against one
#   alone (the most two processes can gain on this machine now, whatever they run),
# and prints times, throughputs, peak RSS and each ratio against its target.
#
# Environment: BENCH_DIR (input cache, default /tmp/pearl-bench-io), REPEAT (default 3),
# PEARL (default ../bin/pearl from this script), IO_BENCH (default ./io next to it),
# MPIRUN (default mpirun), MPIRUN_FLAGS, PYTHON (default /usr/bin/python3: needs h5py,
# pandas and dask). Run from the build tree: cd build && bench/io.sh [ROWS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "bench/io: $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
exec "${PYTHON:-/usr/bin/python3}" "$here/io.py" run "${1:-100000000}"
