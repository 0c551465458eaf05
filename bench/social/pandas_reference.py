#!/usr/bin/python3
"""The pandas reference of social.compliance or social.unemployment (the golden tests' own
`expected`, imported, not rewritten) on a data.generate directory, for bench/social/jobs.sh.
Reads both HDF5 layouts (columnar group, compound dataset). Prints read and compute seconds.

Usage: pandas_reference.py compliance|unemployment DIR [PEARL_OUTPUT.h5]
With a pearl output file (the job's default options), also checks that pearl's table
equals the reference: integers exactly, floats to 1e-9 relative, the same row order."""
import glob
import os
import sys
import time
import warnings

import h5py
import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "jobs", "social"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "support"))
warnings.simplefilter("ignore")


def read(d, table, cols):
    """Every shard of `table` in `d`, columnar or compound, as one frame of `cols`."""
    frames = []
    for p in sorted(glob.glob(os.path.join(d, f"{table}-*.h5"))):
        with h5py.File(p, "r") as f:
            obj = f[table]
            if isinstance(obj, h5py.Dataset):  # compound: one structured array
                a = obj[:]
                frames.append(pd.DataFrame({c: a[c] for c in cols}))
            else:
                frames.append(pd.DataFrame({c: obj[c][:] for c in cols}))
    return pd.concat(frames, ignore_index=True)


def main():
    job, d = sys.argv[1], sys.argv[2]
    t0 = time.time()
    if job == "compliance":
        from test_compliance import expected
        data = read(d, "contributions", ["person_id", "employer_id", "region_code", "industry", "month",
                                         "insurance", "due", "paid"])
        t1 = time.time()
        out = expected(data, ["region", "insurance", "month"])
    elif job == "unemployment":
        from test_unemployment import expected
        spells = read(d, "unemployment", ["person_id", "region_code", "start_day", "end_day"])
        lf = read(d, "labour_force", ["region_code", "month", "employed"])
        t1 = time.time()
        out = expected(spells, lf)
    else:
        sys.exit(f"unknown job {job!r}: compliance or unemployment")
    t2 = time.time()
    print(f"pandas {job}: read {t1 - t0:.1f} s, compute {t2 - t1:.1f} s, total {t2 - t0:.1f} s, {len(out)} rows")
    if len(sys.argv) > 3:
        from pearl_testing import assert_tables_close, read_output
        got = read_output(sys.argv[3], job)[0]
        assert_tables_close(got.reset_index(drop=True), out.reset_index(drop=True), rtol=1e-9)
        print(f"pearl's {sys.argv[3]} equals the reference ({len(got)} rows)")


if __name__ == "__main__":
    main()
