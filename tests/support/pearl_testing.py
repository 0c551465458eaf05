"""Helpers shared by pearl's golden tests (the Python scripts CTest runs as job.<name>, the
tests scripts/new-job generates from jobs/_skeleton, and plugins' tests): running the pearl
program under the MPI launcher, writing input shards in both HDF5 layouts of the data
contract, reading shards and a job's output tables back, and comparing tables with
tolerances. Job-specific helpers stay in their test.

In the source tree CTest puts this folder on PYTHONPATH (pearl_add_golden_test,
cmake/PearlTesting.cmake); an installed pearl has it in share/pearl/python, which
pearl_add_plugin_test (find_package(pearl)) puts there. The environment says what to run:
  PEARL_BIN         the program
  PEARL_PLUGIN      a plugin library passed to every run as --plugin (plugins' tests)
  PEARL_TEST_RANKS  the rank counts of RANKS, comma-separated (default 1,2,3,4)
  MPIEXEC           the launcher; MPIEXEC_FLAGS more launcher flags, shell-quoted
To run a golden test alone, from the source tree:

    PYTHONPATH=tests/support PEARL_BIN=build/bin/pearl /usr/bin/python3 jobs/<...>/test_<...>.py
"""
import glob
import os
import shlex
import shutil
import subprocess

import h5py
import numpy as np
import pandas as pd

PEARL = os.environ.get("PEARL_BIN", "build/bin/pearl")
PLUGIN = os.environ.get("PEARL_PLUGIN", "")
MPIEXEC = os.environ.get("MPIEXEC", "mpiexec")
MPIEXEC_FLAGS = shlex.split(os.environ.get("MPIEXEC_FLAGS", ""))
RANKS = tuple(int(n) for n in os.environ.get("PEARL_TEST_RANKS", "1,2,3,4").split(","))


def pearl_command(*args, ranks=1, plugin=None):
    """The command line running pearl with `args` under MPIEXEC with `ranks` processes; with
    ranks=None, the program alone (one rank without a launcher, as the contract allows).
    plugin: a library loaded with --plugin (None: PEARL_PLUGIN, if set; "": none)."""
    plugin = PLUGIN if plugin is None else plugin
    program = [PEARL, "--plugin", plugin] if plugin else [PEARL]
    if ranks is None:
        return [*program, *args]
    return [MPIEXEC, "-n", str(ranks), *MPIEXEC_FLAGS, *program, *args]


def pearl(*args, ranks=1, timeout=120, env=None, plugin=None):
    """Runs pearl_command(*args, ranks=ranks, plugin=plugin) and waits for it (at most
    `timeout` seconds), in `env` (None: this process's environment). Returns the
    CompletedProcess, with stdout and stderr as text."""
    return subprocess.run(pearl_command(*args, ranks=ranks, plugin=plugin), capture_output=True, text=True,
                          timeout=timeout, env=env)


def builds_launcher_dir(work):
    """A folder (made in `work`) holding `mpirun`, a wrapper starting MPIEXEC, the launcher
    of the MPI pearl was built with: put first on PATH for what runs "the first mpirun on
    PATH" (the local profile), as the MPICH build's tests run beside Open MPI's mpirun. A
    wrapper, not a symlink: MPICH's mpiexec finds hydra_pmi_proxy beside the path it was
    started by, which a symlink in another folder changes."""
    bin_dir = os.path.join(work, "launcher")
    os.makedirs(bin_dir, exist_ok=True)
    wrapper = os.path.join(bin_dir, "mpirun")
    launcher = shutil.which(MPIEXEC)
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec {os.path.realpath(launcher)} "$@"\n')
    os.chmod(wrapper, 0o755)
    return bin_dir


def pipeline_records(run_dir):
    """{task label: record} of a pipeline run directory: its tasks/*.txt (key = value
    lines), labelled as `pearl pipeline status` prints them, "step" or "step[value]"."""
    out = {}
    for path in glob.glob(os.path.join(run_dir, "tasks", "*.txt")):
        with open(path) as f:
            rec = dict(line.split(" = ", 1) for line in f.read().splitlines() if " = " in line)
        out[rec["step"] + (f"[{rec['value']}]" if rec.get("value") else "")] = rec
    return out


def change_first_population(shard, by=1000):
    """Adds `by` to the first row's population in a population shard of either layout: a
    change of content (not of size or of the mtime only) for the pipeline tests."""
    with h5py.File(shard, "r+") as f:
        obj = f["population"]
        if isinstance(obj, h5py.Group):
            obj["population"][0] = obj["population"][0] + by
        else:
            row = obj[0]
            row["population"] += by
            obj[0] = row


def write_columnar(path, df, table, widths=None, compress=False, fixed_strings=False, chunk_rows=500):
    """A shard in the columnar layout: group /<table> with one dataset per column of df.

    widths: {column: numpy type} stores those columns with another type than df's (other
    integer or float widths). Strings (object columns) are stored variable-length, or with
    fixed_strings as 16-byte fixed-length ones. compress: gzip with shuffle, in chunks of
    chunk_rows rows (an empty column stays contiguous)."""
    widths = widths or {}
    with h5py.File(path, "w") as f:
        g = f.create_group(table)
        for c in df.columns:
            v = df[c].to_numpy()
            if v.dtype == object:
                v = np.array([s.encode() for s in v], dtype="S16") if fixed_strings else \
                    np.array(list(v), dtype=h5py.string_dtype())
            else:
                v = v.astype(widths.get(c, v.dtype))
            kw = dict(chunks=(max(1, min(len(v), chunk_rows)),), compression="gzip", shuffle=True) \
                if compress and len(v) else {}
            g.create_dataset(c, data=v, **kw)


def write_compound(path, df, table, widths=None, compress=False):
    """A shard in the compound layout: dataset /<table> of records with one field per column
    of df. widths as for write_columnar; strings are 16-byte fixed-length fields. compress:
    gzip in h5py's automatic chunks (an empty dataset stays contiguous)."""
    widths = widths or {}
    fields = [(c, "S16") if df[c].dtype == object else (c, np.dtype(widths.get(c, df[c].dtype)).str)
              for c in df.columns]
    arr = np.zeros(len(df), dtype=fields)
    for c in df.columns:
        arr[c] = [s.encode() for s in df[c]] if df[c].dtype == object else df[c].to_numpy()
    kw = dict(chunks=True, compression="gzip") if compress and len(df) else {}
    with h5py.File(path, "w") as f:
        f.create_dataset(table, data=arr, **kw)


def read_shards(pattern, table):
    """The table over all shards matching the glob `pattern`, in path order, rows and types as
    stored, from either layout."""
    frames = []
    for path in sorted(glob.glob(pattern)):
        with h5py.File(path, "r") as f:
            obj = f[table]
            if isinstance(obj, h5py.Group):
                frames.append(pd.DataFrame({c: obj[c][:] for c in obj.keys()}))
            else:
                arr = obj[:]
                frames.append(pd.DataFrame({c: arr[c] for c in arr.dtype.names}))
    return pd.concat(frames, ignore_index=True)


def read_output(path, table):
    """A table of a job's output file: (DataFrame with the columns in the table's order,
    strings decoded to str; {column: stored numpy dtype})."""
    with h5py.File(path, "r") as f:
        g = f[table]
        cols = [c.decode() if isinstance(c, bytes) else c for c in g.attrs["columns"]]
        data = {}
        for c in cols:
            d = g[c]
            data[c] = d.asstr()[:] if h5py.check_string_dtype(d.dtype) else d[:]
        return pd.DataFrame(data, columns=cols), {c: g[c].dtype for c in cols}


def assert_tables_close(got, want, rtol=1e-12, atol=0.0):
    """Fails (AssertionError naming the column and first differing row) unless `got` and
    `want` (DataFrames) have the same columns in the same order and the same rows in the
    same order: floating-point columns equal within rtol/atol (NaN equal to NaN), every
    other column exactly."""
    assert list(got.columns) == list(want.columns), f"columns {list(got.columns)}, expected {list(want.columns)}"
    assert len(got) == len(want), f"{len(got)} rows, expected {len(want)}"
    for c in want.columns:
        g, w = got[c].to_numpy(), want[c].to_numpy()
        if np.issubdtype(w.dtype, np.floating) or np.issubdtype(g.dtype, np.floating):
            ok = np.isclose(g.astype(float), w.astype(float), rtol=rtol, atol=atol, equal_nan=True)
        else:
            ok = g == w
        if not np.all(ok):
            i = int(np.argmin(ok))
            raise AssertionError(f"column {c!r}, row {i}: {g[i]!r}, expected {w[i]!r} "
                                 f"({int(np.sum(~ok))} rows differ; rtol={rtol}, atol={atol})")
