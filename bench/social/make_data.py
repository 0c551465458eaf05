#!/usr/bin/python3
"""Synthetic inputs for the social.anomalies benchmark: N claims (8 shards, columnar), deaths
of 1 % of P = N/4 persons, and N/4 contribution rows. Usage: make_data.py N DIR [SEED]"""
import os
import sys

import h5py
import numpy as np

n = int(sys.argv[1])
out = sys.argv[2]
rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
os.makedirs(out, exist_ok=True)
persons = max(1000, n // 4)
counties = np.array([440103, 440106, 440304, 440305, 441900, 445302, 440604, 441302, 440703, 440802], dtype=np.uint32)
y2023 = 19358
shards = 8


def write(name, k, cols):
    path = os.path.join(out, f"{name}-{k:04d}.h5")
    with h5py.File(path, "w") as f:
        g = f.create_group(name)
        for c, v in cols.items():
            g.create_dataset(c, data=v)


for k in range(shards):
    lo, hi = n * k // shards, n * (k + 1) // shards
    m = hi - lo
    benefit = rng.choice(np.array([1, 2, 3, 4], dtype=np.uint8), m, p=[0.42, 0.13, 0.40, 0.05])
    base = np.array([0, 4000, 2000, 1000, 9000])[benefit]
    write("claims", k, {
        "claim_id": np.arange(lo, hi, dtype=np.uint64) * np.uint64(2654435761),
        "person_id": rng.integers(0, persons, m).astype(np.uint64),
        "region_code": counties[rng.integers(0, len(counties), m)],
        "benefit": benefit,
        "claim_day": (y2023 + rng.integers(0, 365, m)).astype(np.int32),
        "amount": np.round(base * np.exp(0.4 * rng.standard_normal(m)), 2),
    })
    c = n // 4 // shards
    write("contributions", k, {
        "person_id": rng.integers(0, persons, c).astype(np.uint64),
        "month": (202301 + rng.integers(0, 12, c)).astype(np.int32),
        "insurance": rng.integers(1, 6, c).astype(np.uint8),
        "paid": rng.choice([0.0, 100.0], c, p=[0.1, 0.9]),
    })
dead = rng.choice(persons, persons // 100, replace=False).astype(np.uint64)
write("deaths", 0, {"person_id": dead, "death_day": (y2023 - 100 + rng.integers(0, 465, len(dead))).astype(np.int32)})
print(f"{n} claims, {len(dead)} deaths, {n // 4 // shards * shards} contributions in {out}")
