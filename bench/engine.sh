#!/usr/bin/env bash
# bench/engine.sh — the engine benchmark: group-by-sum of 50M (int64, double) pairs with
# 1,000 and 10M distinct keys; a hand-written hash-map loop against pearl at 1 and 2 ranks.
#
#   cd build && bench/engine.sh                      # all figures, ~2–4 minutes
#   bench/engine.sh --keys 1000 --pairs 10000000     # a quick look
#
# Runs, per key count, in this one invocation:
#   baseline        the hand-written loop, 1 process (plain new[] table)
#   baseline_huge   the same loop with transparent huge pages advised, as pearl's tables are
#   pearl x1        mpirun -np 1, 1 thread
#   pearl x2        mpirun -np 2, 1 thread each
# Each run repeats its measurement --repeat times (default 3) in-process and reports the
# best; this script prints throughputs, peak RSS per rank, the ratios pearl1/baseline and
# pearl2/pearl1 against the targets, and checks that all modes computed the same sums.
#
# Environment: ENGINE (the binary; default: next to this script, or bench/engine under
# the current directory), MPIRUN (default mpirun), MPIRUN_FLAGS (extra launcher flags).
set -euo pipefail

pairs=50000000
keys_list="1000 10000000"
repeat=3
memory=4GiB
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs=$2; shift 2 ;;
    --keys) keys_list=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "engine.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
engine=${ENGINE:-}
if [ -z "$engine" ]; then
  for c in "$here/engine" "$PWD/bench/engine"; do
    if [ -x "$c" ]; then engine=$c; break; fi
  done
fi
[ -n "$engine" ] && [ -x "$engine" ] || { echo "engine.sh: no engine binary (build the engine_bench target, or set ENGINE)" >&2; exit 2; }
mpirun=${MPIRUN:-mpirun}
# Open MPI refuses to run as root unless told; harmless elsewhere.
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
read -r -a launcher_flags <<< "${MPIRUN_FLAGS:-}"

echo "# pearl engine benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# host: $(hostname), nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# pairs $pairs, repeat $repeat (best of), pearl --memory $memory, binary $engine"

# field NAME LINE: the value of NAME=... in a RESULT line
field() { tr ' ' '\n' <<< "$2" | sed -n "s/^$1=//p"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
rss_list() { local out="" r; IFS=, read -r -a rs <<< "$1"; for r in "${rs[@]}"; do out+="${out:+/}$(mib "$r")"; done; echo "$out"; }

run() {  # run LABEL COMMAND...: prints the rep lines, keeps the RESULT line in $result
  local label=$1; shift
  echo "## $label: $*"
  local out
  out=$("$@" 2>&1) || { echo "$out"; echo "engine.sh: $label failed" >&2; exit 1; }
  grep -v '^RESULT' <<< "$out" | sed 's/^/   /'
  result=$(grep '^RESULT' <<< "$out")
}

summary=()
status=0
for keys in $keys_list; do
  common=(--pairs "$pairs" --keys "$keys" --repeat "$repeat")
  run "baseline, $keys keys" "$engine" --mode baseline "${common[@]}"; base=$result
  run "baseline with huge pages, $keys keys" "$engine" --mode baseline --huge-pages 1 "${common[@]}"; base_huge=$result
  run "pearl, 1 rank, $keys keys" "$mpirun" -np 1 "${launcher_flags[@]}" "$engine" --mode pearl --memory "$memory" "${common[@]}"; p1=$result
  run "pearl, 2 ranks, $keys keys" "$mpirun" -np 2 "${launcher_flags[@]}" "$engine" --mode pearl --memory "$memory" "${common[@]}"; p2=$result

  # Same answer everywhere (sums are exact: values are multiples of 1/8).
  ref="$(field result_keys "$base") $(field sum "$base") $(field hash "$base")"
  for r in "$base_huge" "$p1" "$p2"; do
    got="$(field result_keys "$r") $(field sum "$r") $(field hash "$r")"
    if [ "$got" != "$ref" ]; then echo "MISMATCH ($keys keys): $(field mode "$r") ranks $(field ranks "$r") gave '$got', baseline '$ref'"; status=1; fi
  done
  for r in "$p1" "$p2"; do
    if [ "$(field spilled_runs "$r")" != 0 ]; then echo "NOTE ($keys keys): pearl at $(field ranks "$r") rank(s) spilled; raise --memory"; fi
  done

  tb=$(field pairs_per_s "$base"); tbb=$(field build_pairs_per_s "$base")
  tbh=$(field pairs_per_s "$base_huge"); tbhb=$(field build_pairs_per_s "$base_huge")
  t1=$(field pairs_per_s "$p1"); t2=$(field pairs_per_s "$p2")
  if [ "$keys" -le 100000 ]; then need1=0.8; need2=1.7; else need1=0.5; need2=1.5; fi
  line=$(awk -v k="$keys" -v tb="$tb" -v tbb="$tbb" -v tbh="$tbh" -v tbhb="$tbhb" -v t1="$t1" -v t2="$t2" \
             -v n1="$need1" -v n2="$need2" 'BEGIN {
    r1 = t1 / tb; r2 = t2 / t1
    printf "%-9s | %7.1f (%6.1f) | %7.1f (%6.1f) | %7.1f | %7.1f | %5.2f %-4s (>= %s) | %5.2f %-4s (>= %s) | %5.2f",
      k, tb / 1e6, tbb / 1e6, tbh / 1e6, tbhb / 1e6, t1 / 1e6, t2 / 1e6,
      r1, (r1 >= n1 ? "ok" : "MISS"), n1, r2, (r2 >= n2 ? "ok" : "MISS"), n2, t1 / tbh }')
  line+=" | $(rss_list "$(field peak_rss "$base")") | $(rss_list "$(field peak_rss "$p1")") | $(rss_list "$(field peak_rss "$p2")")"
  summary+=("$line")
  [[ "$line" == *MISS* ]] && status=1
done

echo
echo "# throughput in million pairs/s, best of $repeat; baseline figures: build+sort (build only)"
echo "# ratios: pearl1/baseline (build+sort, plain table), pearl2/pearl1, and pearl1/baseline_huge"
echo "# peak RSS (VmHWM) in MiB per process, including the generated input (16 bytes a pair)"
echo "keys      | baseline         | baseline_huge    | pearl1  | pearl2  | pearl1/baseline     | pearl2/pearl1       | p1/b_huge | RSS base | RSS pearl1 | RSS pearl2"
for l in "${summary[@]}"; do echo "$l"; done
exit $status
