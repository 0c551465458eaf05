#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds a small out-of-tree job library
# against it with find_package(pearl): the exported package must be usable on its own.
set -euo pipefail
build=${1:?usage: install_test.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$here/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
test -f "$tmp/consumer/libmyjob.so"
"$tmp/prefix/bin/pearl" --version
# The installed pearl finds its profiles and batch template in <prefix>/share/pearl.
"$tmp/prefix/bin/pearl" profiles | grep -q "from $tmp/prefix/share/pearl/profiles/tianhe2"
test -f "$tmp/prefix/share/pearl/batch.sh.in"
echo "installed package works"
