#!/usr/bin/env bash
# Compile-fail checks of the public job API (record_compile_fail): each case_*.cpp here
# must fail to compile with exactly one static_assert, whose message contains the text of
# its "// expect: ..." line; ok_*.cpp must compile (so a failure is the key type's, not a
# broken include path). Usage: check_compile_fails.sh CXX INCLUDE_DIR...
set -uo pipefail
cxx=$1
shift
includes=()
for d in "$@"; do includes+=(-I "$d"); done
here=$(cd "$(dirname "$0")" && pwd)
status=0
for f in "$here"/ok_*.cpp; do
  if ! out=$("$cxx" -std=c++20 -fsyntax-only "${includes[@]}" "$f" 2>&1); then
    echo "FAIL: $(basename "$f") should compile:"; echo "$out" | head -20; status=1
  fi
done
for f in "$here"/case_*.cpp; do
  expect=$(sed -n 's|^// expect: ||p' "$f")
  if out=$("$cxx" -std=c++20 -fsyntax-only "${includes[@]}" "$f" 2>&1); then
    echo "FAIL: $(basename "$f") compiled"; status=1; continue
  fi
  asserts=$(grep -c "static assertion failed" <<<"$out")
  first=$(grep -m1 "error" <<<"$out")
  if [ "$asserts" != 1 ] || ! grep -qF "static assertion failed: $expect" <<<"$first"; then
    echo "FAIL: $(basename "$f"): want one static_assert \"$expect\" as the first error, got $asserts:"
    echo "$out" | head -30; status=1
  else
    echo "ok: $(basename "$f"): $(wc -l <<<"$out") lines, first: ${first:0:160}"
  fi
done
exit $status
