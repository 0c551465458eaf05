#!/usr/bin/python3
"""The same four rules in pandas (the golden test's reference implementation, reused), for
the benchmark. Usage: pandas_anomalies.py DIR"""
import glob
import os
import sys
import time

import h5py
import pandas as pd

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
# test_anomalies imports the launcher helpers of tests/support (pearl_testing).
sys.path[:0] = [os.path.join(root, "jobs", "social"), os.path.join(root, "tests", "support")]
from test_anomalies import expected  # noqa: E402


def read(d, table, cols):
    frames = []
    for p in sorted(glob.glob(os.path.join(d, f"{table}-*.h5"))):
        with h5py.File(p, "r") as f:
            frames.append(pd.DataFrame({c: f[table][c][:] for c in cols}))
    return pd.concat(frames, ignore_index=True)


d = sys.argv[1]
t0 = time.time()
claims = read(d, "claims", ["claim_id", "person_id", "region_code", "benefit", "claim_day", "amount"])
deaths = read(d, "deaths", ["person_id", "death_day"])
contrib = read(d, "contributions", ["person_id", "month", "insurance", "paid"])
t1 = time.time()
flags, summary = expected(claims, deaths, contrib)
t2 = time.time()
print(summary.to_string(index=False))
print(f"pandas: read {t1 - t0:.1f} s, rules {t2 - t1:.1f} s, total {t2 - t0:.1f} s, {len(flags)} flags")
