"""Helpers shared by the social.* golden tests: running pearl under MPI, writing shards in
both HDF5 layouts of the data contract, reading outputs and generator shards, dates."""
import glob
import os
import shlex
import subprocess

import h5py
import numpy as np
import pandas as pd

PEARL = os.environ.get("PEARL_BIN", "build/bin/pearl")
MPIEXEC = os.environ.get("MPIEXEC", "mpiexec")
MPIEXEC_FLAGS = shlex.split(os.environ.get("MPIEXEC_FLAGS", ""))
RANKS = (1, 2, 3, 4)
EPOCH = np.datetime64("1970-01-01")


def pearl(*args, ranks=1, timeout=300):
    cmd = [MPIEXEC, "-n", str(ranks), *MPIEXEC_FLAGS, PEARL, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def day(iso):
    """Days since 1970-01-01 of an ISO date."""
    return int((np.datetime64(iso) - EPOCH).astype(int))


def month_of(days):
    """yyyymm of day numbers (numpy's calendar, independent of the job's)."""
    d = pd.to_datetime(np.asarray(days, dtype=np.int64), unit="D")
    return (d.year * 100 + d.month).to_numpy().astype(np.int64)


def write_columnar(path, df, table, widths=None, compress=False):
    widths = widths or {}
    with h5py.File(path, "w") as f:
        g = f.create_group(table)
        for c in df.columns:
            v = df[c].to_numpy().astype(widths.get(c, df[c].dtype))
            kw = dict(chunks=(max(1, min(len(v), 500)),), compression="gzip", shuffle=True) if compress and len(v) else {}
            g.create_dataset(c, data=v, **kw)


def write_compound(path, df, table, widths=None):
    widths = widths or {}
    fields = [(c, np.dtype(widths.get(c, df[c].dtype)).str) for c in df.columns]
    arr = np.zeros(len(df), dtype=fields)
    for c in df.columns:
        arr[c] = df[c].to_numpy()
    with h5py.File(path, "w") as f:
        f.create_dataset(table, data=arr)


def write_shards(directory, table, df, parts=4, widths=None):
    """Splits df over `parts` shards (uneven, one empty): columnar, compound, empty, and
    columnar gzip with the stored widths of `widths`. Returns the input glob."""
    os.makedirs(directory, exist_ok=True)
    n = len(df)
    cuts = [0, n * 3 // 10, n * 7 // 10, n * 7 // 10, n]  # shard 2 is empty
    for k in range(parts):
        part = df.iloc[cuts[k]:cuts[k + 1]] if k < 4 else df.iloc[0:0]
        path = os.path.join(directory, f"{table}-{k:04d}.h5")
        if k == 1:
            write_compound(path, part, table, widths)
        else:
            write_columnar(path, part, table, widths if k == 3 else None, compress=(k == 3))
    return os.path.join(directory, f"{table}-*.h5")


def read_output(path, table):
    with h5py.File(path, "r") as f:
        g = f[table]
        cols = [c.decode() if isinstance(c, bytes) else c for c in g.attrs["columns"]]
        data = {}
        for c in cols:
            d = g[c]
            data[c] = d.asstr()[:] if h5py.check_string_dtype(d.dtype) else d[:]
        return pd.DataFrame(data, columns=cols)


def read_shards(pattern, table):
    """A table over shards in either layout, in shard order (for generator data)."""
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


def assert_frames(test, got, want, keys, floats=(), ints=()):
    """Same rows in the same order; integers exact, floats to 1e-9 relative (NaN = NaN)."""
    test.assertEqual(len(got), len(want), f"row count: got {len(got)}, want {len(want)}")
    for c in keys + list(ints):
        g = got[c].to_numpy()
        w = want[c].to_numpy()
        if g.dtype.kind in "OUS":
            test.assertEqual(list(g), list(w), c)
        else:
            np.testing.assert_array_equal(g.astype(np.int64), w.astype(np.int64), err_msg=c)
    for c in floats:
        np.testing.assert_allclose(got[c].to_numpy(dtype=float), want[c].to_numpy(dtype=float),
                                   rtol=1e-9, atol=0, equal_nan=True, err_msg=c)
