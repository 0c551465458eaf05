#!/usr/bin/python3
"""bench/health/incidence_bench.py — health.incidence over N generated cases at 2 ranks,
against pandas doing the same computation on the same files.

    /usr/bin/python3 bench/health/incidence_bench.py --pearl build/bin/pearl --rows 50000000 \
        --data /tmp/health-bench [--keep] [--ranks 2]

Steps: (1) `pearl run data.generate --domain health` at 2 ranks (skipped when DATA already
holds the shards of the same --rows); (2) pearl health.incidence (default --by
region,disease,year, WHO 2000, city level) under /usr/bin/time -v per rank; (3) pandas:
per shard, read the needed columns with h5py, derive year and age group, count by (city,
disease, year, age group), then add the shards' counts, join the population and apply the
formulas (scipy gamma quantiles) — a straightforward, memory-bounded pandas version of the
same computation; (4) compare the two outputs (integers exact, rates 1e-9 relative) and print
the times, the ratio pandas / pearl and the peak RSS of each.

Environment: MPIEXEC (default mpiexec), MPIEXEC_FLAGS (e.g. --oversubscribe for Open MPI)."""
import argparse
import glob
import os
import re
import resource
import shlex
import subprocess
import sys
import time

import h5py
import numpy as np
import pandas as pd
from scipy import stats

WHO = np.array([8860, 8690, 8600, 8470, 8220, 7930, 7610, 7150, 6590, 6040, 5370, 4550, 3720,
                2960, 2210, 1520, 910, 635], dtype=float)


def mpiexec(ranks, args):
    return [os.environ.get("MPIEXEC", "mpiexec"), "-n", str(ranks),
            *shlex.split(os.environ.get("MPIEXEC_FLAGS", ""))] + args


def read_columns(path, table, columns):
    with h5py.File(path, "r") as f:
        obj = f[table]
        if isinstance(obj, h5py.Dataset):  # compound dataset
            data = obj.fields(columns)[:] if len(obj) else np.zeros(0, dtype=obj.dtype)
            return {c: data[c] for c in columns}
        return {c: obj[c][:] for c in columns}


def pandas_incidence(data, per=100000.0):
    counts = []
    for path in sorted(glob.glob(f"{data}/cases-*.h5")):
        cols = read_columns(path, "cases", ["age_years", "region_code", "disease", "onset_day"])
        if len(cols["onset_day"]) == 0:
            continue
        disease = cols["disease"]  # bytes (variable-length) or numpy S16 (fixed): decoded at the end
        df = pd.DataFrame({
            "region_code": (cols["region_code"].astype(np.int64) // 100 * 100),
            "disease": pd.Categorical(disease),
            "year": pd.to_datetime(cols["onset_day"].astype(np.int64), unit="D").year,
            "age_group": np.minimum(cols["age_years"].astype(np.int64) // 5, 17),
        })
        counts.append(df.groupby(["region_code", "disease", "year", "age_group"], observed=True).size())
    d = pd.concat(counts).groupby(level=[0, 1, 2, 3]).sum()
    d = d.unstack("age_group", fill_value=0).reindex(columns=range(18), fill_value=0)
    pops = [pd.DataFrame(read_columns(p, "population", ["region_code", "year", "age_group", "population"]))
            for p in sorted(glob.glob(f"{data}/population-*.h5"))]
    pop = pd.concat(pops)
    pop["region_code"] = pop["region_code"].astype(np.int64) // 100 * 100
    n = pop.groupby(["region_code", "year", "age_group"])["population"].sum().unstack("age_group", fill_value=0)
    w = WHO / WHO.sum()
    keys = d.index.to_frame(index=False)
    dd = d.to_numpy(float)
    nn = n.loc[list(zip(keys["region_code"], keys["year"]))].to_numpy(float)
    y = (w * dd / nn).sum(axis=1)
    v = (w * w * dd / nn ** 2).sum(axis=1)
    wm = (w / nn).max(axis=1)
    out = keys.assign(cases=dd.sum(axis=1).astype(np.int64), population=nn.sum(axis=1).astype(np.int64))
    out["crude_rate"] = dd.sum(axis=1) / nn.sum(axis=1) * per
    out["asr"] = y * per
    out["asr_lower"] = stats.gamma.ppf(0.025, y * y / v, scale=v / y) * per
    out["asr_upper"] = stats.gamma.ppf(0.975, (y + wm) ** 2 / (v + wm * wm), scale=(v + wm * wm) / (y + wm)) * per
    out["disease"] = [x.decode() if isinstance(x, bytes) else x for x in out["disease"]]
    return out.sort_values(["region_code", "disease", "year"]).reset_index(drop=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pearl", default="build/bin/pearl")
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--data", default="/tmp/health-bench")
    args = ap.parse_args()
    pearl = os.path.abspath(args.pearl)
    stamp = os.path.join(args.data, f".rows-{args.rows}")
    if not os.path.exists(stamp):
        t = time.time()
        subprocess.run(mpiexec(2, [pearl, "run", "data.generate", "--domain", "health", "--rows", str(args.rows),
                                   "--shards", str(args.shards), "--seed", "1", "--out-dir", args.data]), check=True)
        open(stamp, "w").close()
        print(f"generated {args.rows} cases in {time.time() - t:.1f} s")

    out = os.path.join(args.data, "incidence.h5")
    if os.path.exists(out):
        os.remove(out)
    cmd = mpiexec(args.ranks, ["/usr/bin/time", "-v", pearl, "run", "health.incidence",
                               "--input", f"cases={args.data}/cases-*.h5",
                               "--input", f"population={args.data}/population-*.h5",
                               "--min-cell", "0", "--output", out])
    print("$", " ".join(cmd))
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    pearl_s = time.time() - t
    if r.returncode != 0:
        sys.exit(r.stderr)
    rss = [int(m) for m in re.findall(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)]
    print(f"pearl  health.incidence x{args.ranks}: {pearl_s:.2f} s wall, peak RSS per rank "
          + ", ".join(f"{k / 1024:.0f} MiB" for k in rss))

    t = time.time()
    want = pandas_incidence(args.data)
    pandas_s = time.time() - t
    pandas_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"pandas (same computation, 1 process): {pandas_s:.2f} s wall, peak RSS {pandas_rss / 1024:.0f} MiB")

    with h5py.File(out, "r") as f:
        g = f["incidence"]
        got = pd.DataFrame({c: (g[c].asstr()[:] if h5py.check_string_dtype(g[c].dtype) else g[c][:])
                            for c in ["region_code", "disease", "year", "cases", "population", "crude_rate", "asr",
                                      "asr_lower", "asr_upper"]})
    assert len(got) == len(want), (len(got), len(want))
    for c in ("region_code", "disease", "year", "cases", "population"):
        assert got[c].tolist() == want[c].tolist(), c
    for c in ("crude_rate", "asr", "asr_lower", "asr_upper"):
        np.testing.assert_allclose(got[c], want[c], rtol=1e-9, err_msg=c)
    print(f"outputs agree ({len(got)} rows); ratio pandas / pearl = {pandas_s / pearl_s:.2f}")


if __name__ == "__main__":
    main()
