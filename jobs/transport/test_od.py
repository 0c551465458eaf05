#!/usr/bin/python3
"""Golden test of transport.od against a pandas implementation of the contract, at 1-4 ranks.

The reference (od_reference below) is written from jobs.md, not from the job: concatenate the
shards in path order, drop bus taps, stable-sort by (card_id, tap_time, tap_type) -- equal
taps keep input order --, pair each entry with the tap right after it by a shift, classify the
pairs, and let pandas' groupby compute count, mean and type-7 quantiles.

Test data: cards whose taps are scattered over five shards (so over ranks) in both HDF5
layouts and mixed integer widths, one shard empty, with bus taps in between, orphan entries
and exits, same-station pairs (also longer than the limit), too-long and zero-duration pairs,
ties in tap_time (entry and exit at the same second; two entries at the same second, which
only input order separates) and a tap before 1970 (floored modulo for the hour). Also the
generator's data, a run with a small --memory, and bad input.

Run by CTest (job.transport.od) with PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS in the environment;
alone: PYTHONPATH=tests/support PEARL_BIN=build/bin/pearl /usr/bin/python3 THIS_FILE."""
import glob
import os
import re
import sys
import tempfile
import unittest
import warnings

import numpy as np
import pandas as pd

from pearl_testing import RANKS, pearl, read_output, read_shards, write_columnar, write_compound

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # also when imported from elsewhere (bench)
from transport_testing import BadInputCase, check_describe, generate  # noqa: E402

warnings.simplefilter("ignore")
JOB = "transport.od"
OD_COLUMNS = ["origin", "destination", "hour", "trips", "mean_minutes", "p50_minutes", "p90_minutes"]
OD_TYPES = [np.uint32, np.uint32, np.uint8, np.int64, np.float64, np.float64, np.float64]
QUALITY_COLUMNS = ["taps", "bus_taps", "trips", "orphan_entries", "orphan_exits", "same_station", "too_long"]


# ---- the reference ------------------------------------------------------------------------

def read_taps(pattern):
    """All shards matching `pattern`, in path order, rows as stored (h5py; both layouts)."""
    df = read_shards(pattern, "taps")
    return df.astype({"card_id": np.uint64, "tap_time": np.int64, "station_id": np.uint32, "tap_type": np.uint8})


def od_reference(df, max_minutes=240):
    quality = {"taps": len(df), "bus_taps": int((df.tap_type == 3).sum())}
    m = df[df.tap_type != 3].sort_values(["card_id", "tap_time", "tap_type"], kind="stable")
    card, t = m.card_id.to_numpy(), m.tap_time.to_numpy()
    station, kind = m.station_id.to_numpy(), m.tap_type.to_numpy()
    # a pair: an entry and the next tap of the same card, which is an exit (pairs are disjoint)
    pair = np.zeros(len(m), dtype=bool)
    if len(m) > 1:
        pair[:-1] = (kind[:-1] == 1) & (kind[1:] == 2) & (card[:-1] == card[1:])
    entry_i = np.flatnonzero(pair)
    exit_i = entry_i + 1
    dt = t[exit_i] - t[entry_i]
    same = station[entry_i] == station[exit_i]
    long_ = ~same & ((dt <= 0) | (dt > max_minutes * 60))
    trip = ~same & ~long_
    in_pair = np.zeros(len(m), dtype=bool)
    in_pair[entry_i] = True
    in_pair[exit_i] = True
    quality.update(trips=int(trip.sum()), orphan_entries=int(((kind == 1) & ~in_pair).sum()),
                   orphan_exits=int(((kind == 2) & ~in_pair).sum()), same_station=int(same.sum()),
                   too_long=int(long_.sum()))
    trips = pd.DataFrame({"origin": station[entry_i][trip], "destination": station[exit_i][trip],
                          "hour": ((t[entry_i][trip] + 28800) % 86400) // 3600,
                          "minutes": dt[trip] / 60.0})
    g = trips.groupby(["origin", "destination", "hour"], sort=True)["minutes"]
    od = pd.DataFrame({"trips": g.size(), "mean_minutes": g.mean(), "p50_minutes": g.quantile(0.5),
                       "p90_minutes": g.quantile(0.9)}).reset_index()
    return od, quality


# ---- test data --------------------------------------------------------------------------------

def make_taps(rng, cards=1200):
    """Per card a day of taps with every case of the contract; returns rows in a random order."""
    rows = []
    stations = np.arange(101, 141, dtype=np.uint32)
    base = 1693756800  # 2023-09-04 00:00 local (UTC+8), as UTC seconds

    def tap(card, t, s, k):
        rows.append((card, t, s, k))

    for c in range(cards):
        card = int(rng.integers(1, 2**64 - 1, dtype=np.uint64))  # beyond 2**53: exact ids matter
        t = base - 28800 + int(rng.integers(5 * 3600, 9 * 3600))  # 21:00-01:00 local: hours wrap at midnight
        if c == 0:
            t = -5 * 3600 - 17  # before 1970: the hour needs a floored modulo
        for _ in range(int(rng.integers(1, 7))):
            a, b = (int(x) for x in rng.choice(stations, 2, replace=False))
            dur = int(rng.integers(3 * 60, 90 * 60))
            u = rng.random()
            if rng.random() < 0.25:
                tap(card, t - int(rng.integers(60, 1500)), 10000 + int(rng.integers(1, 50)), 3)  # bus
            if u < 0.60:                         # a trip
                tap(card, t, a, 1); tap(card, t + dur, b, 2)
            elif u < 0.66:                       # orphan entry (exit lost)
                tap(card, t, a, 1)
            elif u < 0.72:                       # orphan exit (entry lost)
                tap(card, t + dur, b, 2)
            elif u < 0.76:                       # same station
                tap(card, t, a, 1); tap(card, t + dur, a, 2)
            elif u < 0.79:                       # same station and longer than the limit
                tap(card, t, a, 1); tap(card, t + 300 * 60, a, 2)
            elif u < 0.84:                       # too long (> 240 min; and around 30 min for --max-trip 30)
                tap(card, t, a, 1); tap(card, t + int(rng.choice([241 * 60, 30 * 60, 30 * 60 + 1])), b, 2)
            elif u < 0.88:                       # Δt = 0: entry and exit in the same second
                tap(card, t, a, 1); tap(card, t, b, 2)
            elif u < 0.92:                       # exit listed first at the same second: (time, type) order
                tap(card, t + dur, b, 2); tap(card, t, a, 1)
            elif u < 0.96:                       # two entries in the same second: input order decides
                tap(card, t, a, 1); tap(card, t, b, 1); tap(card, t + dur, a if rng.random() < 0.5 else b, 2)
            else:                                # exit exactly at the limit (a trip)
                tap(card, t, a, 1); tap(card, t + 240 * 60, b, 2)
            t += dur + int(rng.integers(0, 4 * 3600))
    df = pd.DataFrame(rows, columns=["card_id", "tap_time", "station_id", "tap_type"])
    df = df.astype({"card_id": np.uint64, "tap_time": np.int64, "station_id": np.uint32, "tap_type": np.uint8})
    df["line_id"] = (df.station_id // 100).astype(np.uint16)
    df["fare"] = np.where(df.tap_type == 2, 3.0, 0.0)
    return df


def write_test_shards(d, df, rng):
    """Rows scattered over 5 shards (a card's taps end up in several), layouts and widths mixed."""
    shard = rng.choice([0, 2, 3, 4], len(df))
    parts = {k: df[shard == k].reset_index(drop=True) for k in range(5)}
    write_columnar(f"{d}/taps-0.h5", parts[0], "taps")
    write_columnar(f"{d}/taps-1.h5", parts[1], "taps")  # empty
    write_compound(f"{d}/taps-2.h5", parts[2], "taps", widths={"tap_type": np.int16, "station_id": np.int64},
                   compress=True)
    narrow = parts[3]
    narrow = narrow[narrow.tap_time >= 0]  # uint32 times: this shard holds no pre-1970 tap
    parts[3] = narrow.reset_index(drop=True)
    pre = df[(shard == 3) & (df.tap_time < 0)]
    parts[4] = pd.concat([parts[4], pre], ignore_index=True)
    write_columnar(f"{d}/taps-3.h5", parts[3], "taps", widths={"tap_time": np.uint32, "station_id": np.uint16,
                                                              "tap_type": np.int32, "line_id": np.int64})
    write_compound(f"{d}/taps-4.h5", parts[4].drop(columns=["fare"]), "taps", widths={"tap_type": np.uint16},
                   compress=True)


class Golden(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        rng = np.random.default_rng(11)
        df = make_taps(rng)
        df = df.sample(frac=1, random_state=3).reset_index(drop=True)  # rows of a card out of order
        write_test_shards(d, df, rng)
        cls.glob = f"{d}/taps-*.h5"
        cls.frame = read_taps(cls.glob)  # the input order: shards in path order, rows as stored
        shards_per_card = pd.concat(
            [read_taps(p).assign(shard=i) for i, p in enumerate(sorted(glob.glob(cls.glob))) if i != 1]
        ).groupby("card_id")["shard"].nunique()
        assert (shards_per_card >= 3).mean() > 0.5, "most cards must have taps in several shards"

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_job(self, pattern, ranks, *extra, name="od"):
        out = os.path.join(self.tmp.name, f"{name}-{ranks}.h5")
        if os.path.exists(out):  # a rerun replaces it (pearl refuses without --overwrite)
            os.remove(out)
        r = pearl("run", JOB, "--input", f"taps={pattern}", "--output", out, *extra, ranks=ranks)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = {}
        for table in ("od", "quality"):
            frame, types = read_output(out, table)
            got[table] = (frame, list(types.values()))
        return got

    def check(self, got, frame, max_minutes=240):
        want_od, want_q = od_reference(frame, max_minutes)
        od, types = got["od"]
        self.assertEqual(list(od.columns), OD_COLUMNS)
        self.assertEqual(types, [np.dtype(t) for t in OD_TYPES])
        quality, qtypes = got["quality"]
        self.assertEqual(list(quality.columns), QUALITY_COLUMNS)
        self.assertEqual(qtypes, [np.dtype(np.int64)] * 7)
        self.assertEqual(len(quality), 1)
        self.assertEqual({c: int(quality[c][0]) for c in QUALITY_COLUMNS}, want_q)
        self.assertEqual(len(od), len(want_od))
        for c in ("origin", "destination", "hour", "trips"):
            self.assertEqual(od[c].tolist(), want_od[c].tolist(), c)
        for c in ("mean_minutes", "p50_minutes", "p90_minutes"):
            np.testing.assert_allclose(od[c].to_numpy(), want_od[c].to_numpy(), rtol=1e-9, err_msg=c)
        return want_q

    def test_matches_pandas_at_every_rank_count(self):
        for ranks in RANKS:
            with self.subTest(ranks=ranks):
                q = self.check(self.run_job(self.glob, ranks), self.frame)
        # the data exercises every case (a test that cannot fail is a defect)
        for c in QUALITY_COLUMNS:
            self.assertGreater(q[c], 0, c)

    def test_max_trip_minutes(self):
        for ranks in (1, 3):
            with self.subTest(ranks=ranks):
                self.check(self.run_job(self.glob, ranks, "--max-trip-minutes", "30", name="od30"), self.frame, 30)

    def test_small_memory_and_threads_give_the_same_tables(self):
        ref = self.run_job(self.glob, 1, name="od-ref")
        for ranks, memory in ((2, "16MiB"), (3, "1MiB")):
            with self.subTest(ranks=ranks, memory=memory):
                got = self.run_job(self.glob, ranks, "--memory", memory, "--threads", "2", name="od-mem")
                pd.testing.assert_frame_equal(got["od"][0], ref["od"][0], check_exact=True)
                pd.testing.assert_frame_equal(got["quality"][0], ref["quality"][0], check_exact=True)
                self.check(got, self.frame)

    def test_generator_data(self):
        gen = generate(self, os.path.join(self.tmp.name, "gen"), rows=120000, seed=17)
        pattern = f"{gen}/taps-*.h5"
        frame = read_taps(pattern)
        self.assertEqual(len(frame), 120000)
        for ranks in (1, 4):
            with self.subTest(ranks=ranks):
                q = self.check(self.run_job(pattern, ranks, name="od-gen"), frame)
                self.assertGreater(q["trips"], 10000)
                self.assertGreater(q["bus_taps"], 0)
        # 1MiB: every pass spills (the card groups, the trip buffer, the OD-hour groups)
        self.check(self.run_job(pattern, 2, "--memory", "1MiB", "--threads", "2", name="od-gen-mem"), frame)

    def test_memory_stays_within_the_budget(self):
        # Each pass's grouped result must be released before the next pass takes its share
        # of --memory. 4M generated taps at 64 MiB fill every pass's share. The peak RSS of
        # that run, less that of a run on the small fixture (program, MPI, HDF5: ~29 MiB),
        # must stay within the budget and a quarter of it: the budget bounds the engine's
        # tables and buffers, while input batches and HDF5's chunk caches lie outside it.
        # Measured at 2 ranks: +64 MiB; +105 MiB when the card groups were still held
        # during the OD-hour pass.
        gen = generate(self, os.path.join(self.tmp.name, "gen-4m"), rows=4000000, seed=3, shards=4)

        def peak_rss(pattern):
            out = os.path.join(self.tmp.name, "od-rss.h5")
            if os.path.exists(out):  # a rerun replaces it (pearl refuses without --overwrite)
                os.remove(out)
            r = pearl("run", JOB, "--input", f"taps={pattern}", "--output", out, "--memory", "64MiB", "--verbose",
                      ranks=2)
            self.assertEqual(r.returncode, 0, r.stderr)
            m = re.search(r"peak RSS \(max over ranks\) .* = (\d+) bytes", r.stderr)
            self.assertIsNotNone(m, r.stderr)
            return int(m.group(1))

        small, full = peak_rss(self.glob), peak_rss(f"{gen}/taps-*.h5")
        self.assertLessEqual(full - small, 80 << 20, f"peak RSS {full >> 20} MiB against {small >> 20} MiB")

    def test_describe(self):
        check_describe(self, JOB, ("taps (required)", "card_id", "tap_type", "--max-trip-minutes", "(=240)",
                                   "table od", "table quality", "p90_minutes"))


class BadInput(BadInputCase):
    JOB, INPUT = "transport.od", "taps"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        df = make_taps(np.random.default_rng(2), cards=50)
        write_columnar(f"{d}/good.h5", df, "taps")
        write_columnar(f"{d}/nostation.h5", df.drop(columns=["station_id"]), "taps")
        write_columnar(f"{d}/floatcard.h5", df.assign(card_id=df.card_id.astype(np.float64)), "taps")
        bad = df.copy()
        bad.loc[7, "tap_type"] = 7
        write_columnar(f"{d}/badtype.h5", bad, "taps")

    def test_bad_inputs(self):
        d = self.d
        cases = [
            (f"{d}/nostation.h5", (), ["nostation.h5", "station_id"]),
            (f"{d}/floatcard.h5", (), ["floatcard.h5", "card_id"]),
            (f"{d}/badtype.h5", (), ["tap_type", "7", "row 7"]),
            (f"{d}/good.h5", ("--max-trip-minutes", "0"), ["--max-trip-minutes"]),
            (f"{d}/good.h5", ("--max-trip-minutes", "soon"), ["max-trip-minutes"]),
        ]
        # Input errors at 1 and 3 ranks; option errors (checked alike on every rank) at 2.
        for file, extra, fragments in cases:
            for ranks in ((1, 3) if not extra else (2,)):
                with self.subTest(ranks=ranks, file=os.path.basename(file), extra=extra):
                    self.expect_error(file, extra, fragments, ranks)


if __name__ == "__main__":
    unittest.main(verbosity=2)
