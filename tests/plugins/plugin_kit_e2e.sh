#!/usr/bin/env bash
# The plugin writer's kit, as a newcomer uses it, from a clean prefix and a clean
# environment (no PYTHONPATH, PEARL_BIN or MPIEXEC; no path into this source tree):
#   1. `cmake --install` into a temporary prefix; `pearl-new-job --plugin` makes a plugin;
#   2. it configures against the prefix with no build type (Release flags all the same),
#      builds, and its golden test passes at 1, 2 and 3 ranks (pearl_add_plugin_test);
#   3. its output records job_version and the plugin (path, version, header fingerprint);
#      a built-in job's records pearl's version and no plugin;
#   4. the same plugin built against a copy of the installed headers with a field added
#      to a struct (TableBatch), the ABI number untouched, is refused by the installed
#      pearl with exit 2 and one message asking for a rebuild, at 1 and 3 ranks.
# Usage: plugin_kit_e2e.sh BUILD_DIR SOURCE_DIR (MPIEXEC, MPIEXEC_FLAGS and the MPI test
# variables from the environment, for the runs this script starts itself).
set -euo pipefail
build=${1:?usage: plugin_kit_e2e.sh BUILD_DIR SOURCE_DIR}
source_dir=${2:?}
# shellcheck source=installed_prefix.sh
source "$(dirname "$0")/installed_prefix.sh"  # $tmp, $prefix, $pearl, $mpiexec, $mpiflags
clean=(env -i "HOME=$tmp" "PATH=/usr/bin:/bin" "LANG=C.UTF-8")
fail() { echo "FAIL: $*"; exit 1; }

# 1-2. the template, built and tested against the installed package only
"${clean[@]}" "$prefix/bin/pearl-new-job" --plugin "$tmp/acme" health.case_delay
"${clean[@]}" cmake -S "$tmp/acme" -B "$tmp/acme/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
grep -q -- '-O3' "$tmp/acme/build/compile_commands.json" \
  || fail "the plugin is not compiled with the Release flags when no build type is set"
"${clean[@]}" cmake --build "$tmp/acme/build" >/dev/null
lib=$tmp/acme/build/libhealth_case_delay.so
# Text files only: the installed program's binary may name its own sources.
if grep -rlIF -e "$source_dir" -e "$(cd "$build" && pwd)" "$tmp/acme" "$prefix/lib/cmake" "$prefix/share"; then
  fail "the plugin's build or the installed package refers to the source or build tree (files above)"
fi
(cd "$tmp/acme/build" && "${clean[@]}" ctest --output-on-failure) > "$tmp/ctest.log" 2>&1 \
  || { cat "$tmp/ctest.log"; fail "the template's golden test fails"; }
for n in 1 2 3; do
  grep -qE "job\.health\.case_delay\.ranks$n \.+ +Passed" "$tmp/ctest.log" \
    || { cat "$tmp/ctest.log"; fail "no passing job.health.case_delay.ranks$n"; }
done
echo "template: built Release against $prefix, golden test passed at 1, 2 and 3 ranks"

# 3. what outputs record
mkdir "$tmp/data"
/usr/bin/python3 - "$tmp/data/events-0.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    g = f.create_group("events")
    g.create_dataset("key", data=np.arange(100, dtype=np.int64) % 7)
    g.create_dataset("value", data=np.linspace(0, 1, 100))
PY
"$mpiexec" -n 2 "${mpiflags[@]}" "$pearl" --plugin "$lib" run health.case_delay \
  --input "events=$tmp/data/events-*.h5" --output "$tmp/plugin.h5"
"$pearl" run table.aggregate --input "table=$tmp/data/events-*.h5:/events" --by key --output "$tmp/builtin.h5"
/usr/bin/python3 - "$tmp/plugin.h5" "$tmp/builtin.h5" "$(realpath "$lib")" "$("$pearl" --version)" <<'PY'
import json, sys, h5py
plugin_out, builtin_out, lib, version = sys.argv[1:]
version = version.split()[-1]
with h5py.File(plugin_out, "r") as f:
    for where in (f.attrs, f["totals"].attrs):
        assert where["job_version"] == "0.1.0", where["job_version"]
        p = json.loads(where["plugin"])
        assert p["path"] == lib and p["version"] == "0.1.0" and p["name"] == "health_case_delay", p
        assert len(p["headers_fingerprint"]) == 16, p
        assert where["pearl_version"] == version
with h5py.File(builtin_out, "r") as f:
    assert f.attrs["job_version"] == version, f.attrs["job_version"]
    assert "plugin" not in f.attrs
print("outputs record job_version and the plugin:", p)
PY
fingerprint=$(/usr/bin/python3 -c "import json,h5py,sys; print(json.loads(h5py.File(sys.argv[1])['/'].attrs['plugin'])['headers_fingerprint'])" "$tmp/plugin.h5")

# 4. a struct changed in a copy of the installed headers, the ABI number untouched
cp -a "$prefix" "$tmp/prefix2"
header=$tmp/prefix2/include/pearl/core/table.hpp
sed -i 's/^  std::uint64_t first_row_ = 0;$/  std::uint64_t first_row_ = 0;\n  std::uint64_t added_by_the_test_ = 0;/' "$header"
grep -q added_by_the_test_ "$header" || fail "could not add a field to TableBatch in $header"
"${clean[@]}" cmake -S "$tmp/acme" -B "$tmp/stale-build" -DCMAKE_PREFIX_PATH="$tmp/prefix2" >/dev/null
"${clean[@]}" cmake --build "$tmp/stale-build" --target health_case_delay >/dev/null
mkdir -m 755 "$tmp/stale"
cp "$tmp/stale-build/libhealth_case_delay.so" "$tmp/stale/"
stale=$tmp/stale/libhealth_case_delay.so
refused() {  # refused RANKS: one message from rank 0, exit 2
  local status=0
  if [ "$1" = 1 ]; then
    "$pearl" --plugin "$stale" run health.case_delay --input "events=$tmp/data/events-*.h5" \
      --output "$tmp/stale-$1.h5" 2> "$tmp/err" || status=$?
  else
    "$mpiexec" -n "$1" "${mpiflags[@]}" "$pearl" --plugin "$stale" run health.case_delay \
      --input "events=$tmp/data/events-*.h5" --output "$tmp/stale-$1.h5" 2> "$tmp/err" || status=$?
  fi
  [ "$status" = 2 ] || { cat "$tmp/err"; fail "stale plugin at $1 ranks: exit $status, expected 2"; }
  local lines
  lines=$(grep '^pearl' "$tmp/err" || true)
  [ "$(wc -l <<< "$lines")" = 1 ] || { cat "$tmp/err"; fail "stale plugin at $1 ranks: not exactly one message"; }
  for text in "pearl: error: plugin $stale: built against other pearl headers" "this pearl has $fingerprint" \
              "rebuild the plugin against this pearl installation"; do
    grep -qF -- "$text" <<< "$lines" || { echo "$lines"; fail "the refusal lacks '$text'"; }
  done
  [ ! -e "$tmp/stale-$1.h5" ] || fail "a refused plugin's run left an output"
}
refused 1
refused 3
echo "a plugin built against changed headers (same ABI number) is refused: $(cat "$tmp/err" | grep '^pearl')"
