# Sourced by the plugin tests that work against the installed package, after they set
# $build (the build tree): makes $tmp (removed on exit; mode 755, as a plugin's directory
# must not be writable by others), takes the launcher from the environment ($mpiexec,
# $mpiflags: MPIEXEC, MPIEXEC_FLAGS) and installs the build into $prefix ($pearl: its program).
mpiexec=${MPIEXEC:-mpiexec}
read -r -a mpiflags <<< "${MPIEXEC_FLAGS:-}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
unset PEARL_PLUGIN_PATH
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
pearl=$prefix/bin/pearl
