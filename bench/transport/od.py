#!/usr/bin/python3
"""bench/transport/od.py — transport.od at 2 ranks vs pandas, and with a small --memory.

  od.py run [N] [DIR]        everything below in one invocation (N default 100,000,000 taps)
  od.py generate N DIR       N taps as SHARDS columnar shards (cached in DIR/taps-N/)
  od.py pandas DIR OUT.npz   h5py read + the contract in pandas: stable sort by
                             (card_id, tap_time, tap_type), shift pairing, groupby
                             (origin, destination, hour) size / mean / quantile(.5, .9)

The taps: N/20 cards over one week, each shard one day (so every card's taps are spread
over all shards and, with 2 ranks, over both ranks), rows in time order within a shard as
a day's export would be. A trip is an entry and an exit 5-80 min later at another of 142
station ids; 10 % of trips get a bus tap before them, 1 % lose the entry, 1 % the exit,
0.3 % exit at the entry station. Columns card_id uint64, tap_time int64, station_id uint32,
line_id uint16, tap_type uint8, fare float64 (the contract's taps table).

`run` prints the wall time and peak RSS (per process, /usr/bin/time) of each of: pearl at 2
ranks (default --memory 1GiB per rank), pandas, pearl at 2 ranks with --memory a quarter of
the input files' size; checks that pandas and both pearl runs agree (counts exactly, minutes
to 1e-9) and prints the ratio pandas / pearl.
"""
import glob
import os
import shlex
import subprocess
import sys
import time

import numpy as np

SHARDS = 7
SEED = 20231
HERE = os.path.dirname(os.path.abspath(__file__))


def generate(n, directory):
    import h5py
    out = os.path.join(directory, f"taps-{n}")
    done = os.path.join(out, "DONE")
    if os.path.exists(done):
        return out
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    cards = rng.integers(1, 2**63, max(1, n // 20), dtype=np.uint64)
    stations = np.array([100 * line + k for line in range(1, 6) for k in range(1, 29)][:142], dtype=np.uint32)
    # 2023-09-03 16:00 local (UTC+8): the 'day' boundaries are 8 h before local midnight, so
    # the peaks fall at local 16:00 and 02:30. Kept as run for docs/performance-transport.md;
    # the cost does not depend on the clock.
    day0 = 1693756800 - 28800
    per = [n // SHARDS + (1 if d < n % SHARDS else 0) for d in range(SHARDS)]
    for day, quota in enumerate(per):
        trips = quota // 2 + 16  # ~2.08 taps a trip: enough rows, cut to exactly `quota` below
        card = cards[rng.integers(0, len(cards), trips)]
        hour = np.where(rng.random(trips) < 0.5, rng.normal(8.0, 0.8, trips), rng.normal(18.5, 1.2, trips))
        start = day0 + day * 86400 + np.clip(hour, 5.5, 23.5) * 3600
        start = start.astype(np.int64)
        o = rng.integers(0, len(stations), trips)
        d = (o + rng.integers(1, len(stations), trips)) % len(stations)
        d = np.where(rng.random(trips) < 0.003, o, d)
        dur = rng.integers(5 * 60, 80 * 60, trips)
        u = rng.random(trips)
        bus = rng.random(trips) < 0.1
        parts = [
            (card[u >= 0.01], start[u >= 0.01], stations[o][u >= 0.01], np.uint8(1)),                 # entries
            (card[(u < 0.01) | (u >= 0.02)], (start + dur)[(u < 0.01) | (u >= 0.02)],
             stations[d][(u < 0.01) | (u >= 0.02)], np.uint8(2)),                                       # exits
            (card[bus], start[bus] - rng.integers(300, 1500, int(bus.sum())),
             (10000 + rng.integers(1, 400, int(bus.sum()))).astype(np.uint32), np.uint8(3)),           # bus
        ]
        cid = np.concatenate([p[0] for p in parts])
        t = np.concatenate([p[1] for p in parts])
        st = np.concatenate([p[2] for p in parts])
        ty = np.concatenate([np.full(len(p[0]), p[3], dtype=np.uint8) for p in parts])
        order = np.argsort(t, kind="stable")[:quota]  # the day's first `quota` taps
        cid, t, st, ty = cid[order], t[order], st[order], ty[order]
        with h5py.File(os.path.join(out, f"taps-{day}.h5"), "w") as f:
            g = f.create_group("taps")
            g.create_dataset("card_id", data=cid)
            g.create_dataset("tap_time", data=t)
            g.create_dataset("station_id", data=st)
            g.create_dataset("line_id", data=(st // 100).astype(np.uint16))
            g.create_dataset("tap_type", data=ty)
            g.create_dataset("fare", data=np.where(ty == 2, 4.0, np.where(ty == 3, 2.0, 0.0)))
        del cid, t, st, ty, order
    open(done, "w").close()
    return out


def pandas_od(directory, out):
    import h5py
    import pandas as pd
    t0 = time.perf_counter()
    cols = {"card_id": [], "tap_time": [], "station_id": [], "tap_type": []}
    for path in sorted(glob.glob(os.path.join(directory, "taps-*.h5"))):
        with h5py.File(path, "r") as f:
            for c in cols:
                cols[c].append(f["taps"][c][:])
    df = pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})
    del cols
    t1 = time.perf_counter()
    taps, bus = len(df), int((df.tap_type == 3).sum())
    m = df[df.tap_type != 3].sort_values(["card_id", "tap_time", "tap_type"], kind="stable")
    del df
    card, t = m.card_id.to_numpy(), m.tap_time.to_numpy()
    station, kind = m.station_id.to_numpy(), m.tap_type.to_numpy()
    nxt = m.shift(-1)  # the shift pairing, as one would write it in pandas
    pair = ((m.tap_type == 1) & (nxt.tap_type == 2) & (m.card_id.to_numpy() == np.append(card[1:], 0))).to_numpy()
    del nxt, m
    e = np.flatnonzero(pair)
    x = e + 1
    dt = t[x] - t[e]
    same = station[e] == station[x]
    long_ = ~same & ((dt <= 0) | (dt > 240 * 60))
    trip = ~same & ~long_
    used = np.zeros(len(card), dtype=bool)
    used[e] = used[x] = True
    trips = pd.DataFrame({"origin": station[e][trip], "destination": station[x][trip],
                          "hour": ((t[e][trip] + 28800) % 86400) // 3600, "minutes": dt[trip] / 60.0})
    g = trips.groupby(["origin", "destination", "hour"], sort=True)["minutes"]
    od = pd.DataFrame({"trips": g.size(), "mean": g.mean(), "p50": g.quantile(0.5), "p90": g.quantile(0.9)}).reset_index()
    t2 = time.perf_counter()
    quality = np.array([taps, bus, int(trip.sum()), int(((kind == 1) & ~used).sum()), int(((kind == 2) & ~used).sum()),
                        int(same.sum()), int(long_.sum())], dtype=np.int64)
    np.savez(out, quality=quality, **{c: od[c].to_numpy() for c in od.columns})
    print(f"pandas_read_s={t1 - t0:.2f} pandas_compute_s={t2 - t1:.2f}")


def timed(cmd, rss_files=None):
    """Runs cmd; returns (wall seconds, peak RSS in bytes: the max over processes)."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {shlex.join(cmd)}\n{r.stdout}\n{r.stderr}")
    rss = []
    for f in rss_files or []:
        with open(f) as fh:
            rss.append(int(fh.read().split()[-1]) * 1024)  # %M: kB
    return wall, rss, r.stdout + r.stderr


def read_pearl(path):
    import h5py
    with h5py.File(path, "r") as f:
        od = {c: f["od"][c][:] for c in ("origin", "destination", "hour", "trips", "mean_minutes", "p50_minutes", "p90_minutes")}
        q = np.array([f["quality"][c][0] for c in ("taps", "bus_taps", "trips", "orphan_entries", "orphan_exits",
                                                     "same_station", "too_long")])
    return od, q


def same_result(a, b):
    (oa, qa), (ob, qb) = a, b
    return (np.array_equal(qa, qb) and all(np.array_equal(oa[c], ob[c]) for c in oa))


def run(n, directory):
    pearl = os.environ.get("PEARL", os.path.join(HERE, "..", "..", "bin", "pearl"))
    mpirun = shlex.split(os.environ.get("MPIRUN", "mpirun")) + shlex.split(os.environ.get("MPIRUN_FLAGS", ""))
    t0 = time.perf_counter()
    data = generate(n, directory)
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(data, "taps-*.h5")))
    print(f"input: {n} taps, {SHARDS} shards, {size / 2**20:.0f} MiB in {data} (ready in {time.perf_counter() - t0:.0f} s)")
    wrap = os.path.join(HERE, "rank-rss.sh")
    results = {}

    def pearl_run(tag, *extra):
        out = os.path.join(directory, f"od-{n}-{tag}.h5")
        for f in glob.glob(os.path.join(directory, f"rss-{tag}.*")):
            os.remove(f)
        cmd = [*mpirun, "-n", "2", wrap, os.path.join(directory, f"rss-{tag}"), pearl, "run", "transport.od",
               "--input", f"taps={data}/taps-*.h5", "--output", out, *extra]
        wall, _, _ = timed(cmd)
        stats = [open(f).read().split() for f in sorted(glob.glob(os.path.join(directory, f"rss-{tag}.*")))]
        rss = [int(x[-3]) * 1024 for x in stats]  # %M %U %S: kB, user s, system s
        cpu = [float(x[-2]) + float(x[-1]) for x in stats]
        results[tag] = read_pearl(out)
        print(f"pearl {tag}: {wall:.1f} s wall, peak RSS per rank {', '.join(f'{r / 2**20:.0f} MiB' for r in rss)},"
              f" CPU per rank {', '.join(f'{c:.1f} s' for c in cpu)} ({' '.join(extra) or 'default --memory 1GiB'})")
        os.remove(out)
        return wall, rss

    pearl_wall, pearl_rss = pearl_run("default")
    npz = os.path.join(directory, f"pandas-{n}.npz")
    wall, rss, text = timed(["/usr/bin/time", "-f", "%U %S %M", "-o", os.path.join(directory, "rss-pandas"),
                             sys.executable, __file__, "pandas", data, npz], [os.path.join(directory, "rss-pandas")])
    z = np.load(npz)
    pandas_od_ = {"origin": z["origin"], "destination": z["destination"], "hour": z["hour"], "trips": z["trips"]}
    user, sys_ = open(os.path.join(directory, "rss-pandas")).read().split()[-3:-1]
    print(f"pandas: {wall:.1f} s wall ({text.strip()}), peak RSS {rss[0] / 2**20:.0f} MiB,"
          f" CPU {float(user) + float(sys_):.1f} s")
    od, q = results["default"]
    ok = np.array_equal(q, z["quality"]) and all(np.array_equal(od[c].astype(np.int64), pandas_od_[c].astype(np.int64))
                                                 for c in pandas_od_)
    for c, p in (("mean_minutes", "mean"), ("p50_minutes", "p50"), ("p90_minutes", "p90")):
        ok = ok and np.allclose(od[c], z[p], rtol=1e-9, atol=0)
    print(f"pearl == pandas: {ok} (quality {q.tolist()}, {len(od['origin'])} OD-hour rows)")
    print(f"ratio pandas / pearl(2 ranks): {wall / pearl_wall:.2f}x")
    budget = max(16 << 20, size // 4 // 2**20 * 2**20)
    small_wall, small_rss = pearl_run("small", "--memory", f"{budget // 2**20}MiB")
    same = same_result(results["default"], results["small"])
    print(f"--memory {budget / 2**20:.0f} MiB per rank (a quarter of the input) == default: {same}")
    os.remove(npz)
    if not (ok and same):
        sys.exit("MISMATCH")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "run"
    if what == "generate":
        print(generate(int(sys.argv[2]), sys.argv[3]))
    elif what == "pandas":
        pandas_od(sys.argv[2], sys.argv[3])
    elif what == "run":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000_000
        run(n, sys.argv[3] if len(sys.argv) > 3 else os.environ.get("BENCH_DIR", "/tmp/pearl-bench-transport"))
    else:
        sys.exit(__doc__)
