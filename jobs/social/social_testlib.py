"""Helpers shared by the social.* golden tests, on top of tests/support/pearl_testing.py:
pearl runs with a longer timeout, shards split over both HDF5 layouts of the data contract,
dates, and comparing output tables."""
import os
from functools import partial

import numpy as np
import pandas as pd

import pearl_testing
from pearl_testing import write_columnar, write_compound

EPOCH = np.datetime64("1970-01-01")
pearl = partial(pearl_testing.pearl, timeout=300)


def day(iso):
    """Days since 1970-01-01 of an ISO date."""
    return int((np.datetime64(iso) - EPOCH).astype(int))


def month_of(days):
    """yyyymm of day numbers (numpy's calendar, independent of the job's)."""
    d = pd.to_datetime(np.asarray(days, dtype=np.int64), unit="D")
    return (d.year * 100 + d.month).to_numpy().astype(np.int64)


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
