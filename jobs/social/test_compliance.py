#!/usr/bin/python3
"""Golden test of social.compliance against pandas (groupby, nunique, sums), at 1-4 ranks,
over contributions shards in both layouts with mixed integer widths, a gzip and an empty
shard; --by subsets and orders, --region-level, --min-cell; bad options.

Run by CTest (job.social.compliance) with PEARL_BIN, MPIEXEC, MPIEXEC_FLAGS set."""
import os
import re
import sys
import tempfile
import time
import unittest
import warnings

import numpy as np
import pandas as pd

from pearl_testing import RANKS, read_output

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from social_testlib import assert_frames, pearl, write_shards  # noqa: E402

warnings.simplefilter("ignore")
JOB = "social.compliance"
COUNTIES = np.array([440103, 440106, 440304, 440305, 441900, 445302, 440604], dtype=np.uint32)
KEYCOL = {"region": "region_code", "insurance": "insurance", "industry": "industry", "month": "month"}


def contributions(rng, n):
    person = rng.integers(1, 1500, n).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15 // 3)  # large ids
    due = np.round(rng.uniform(10, 2000, n), 2)
    frac = rng.choice([1.0, 1.0, 1.0, 0.5, 0.0, 0.9999], n)
    df = pd.DataFrame({
        "person_id": person,
        "employer_id": (rng.integers(1, 200, n).astype(np.uint64) << np.uint64(40)),
        "region_code": COUNTIES[rng.integers(0, len(COUNTIES), n)],
        "industry": rng.integers(1, 21, n).astype(np.uint8),
        "month": rng.integers(202301, 202307, n).astype(np.int32),
        "insurance": rng.integers(1, 6, n).astype(np.uint8),
        "wage_base": np.round(rng.uniform(3000, 20000, n), 0),
        "due": due,
        "paid": np.round(due * frac, 2),
    })
    # Edge cases: a cell whose due is all 0 (rate NaN), paid exactly due - 0.005 (not
    # underpaid) and due - 0.006 (underpaid), overpayment (no negative arrears).
    extra = pd.DataFrame({
        "person_id": np.array([7, 7, 8, 9, 10], dtype=np.uint64),
        "employer_id": np.array([1, 1, 2, 3, 3], dtype=np.uint64),
        "region_code": np.array([445381, 445381, 445381, 445381, 445381], dtype=np.uint32),
        "industry": np.array([20, 20, 20, 20, 20], dtype=np.uint8),
        "month": np.array([202312, 202312, 202311, 202311, 202311], dtype=np.int32),
        "insurance": np.array([5, 5, 5, 5, 5], dtype=np.uint8),
        "wage_base": np.zeros(5),
        "due": np.array([0.0, 0.0, 100.0, 100.0, 50.0]),
        "paid": np.array([0.0, 0.0, 99.995, 99.994, 80.0]),
    })
    return pd.concat([df, extra], ignore_index=True)


def expected(df, by, level="city", min_cell=10):
    d = df.copy()
    div = {"county": 1, "city": 100, "province": 10000}[level]
    d["region_code"] = (d["region_code"] // div * div).astype(np.uint32)
    d["arrears"] = (d["due"] - d["paid"]).clip(lower=0)
    d["under"] = (d["paid"] < d["due"] - 0.005).astype(np.int64)
    keys = [KEYCOL[b] for b in by]
    g = d.groupby(keys, sort=True)
    w = pd.DataFrame({
        "persons": g["person_id"].nunique(),
        "employers": g["employer_id"].nunique(),
        "due": g["due"].sum(),
        "paid": g["paid"].sum(),
        "arrears": g["arrears"].sum(),
        "underpaid": g["under"].sum(),
    }).reset_index()
    w["collection_rate"] = np.where(w["due"] == 0, np.nan, w["paid"] / w["due"].where(w["due"] != 0, 1))
    hide = (w["persons"] >= 1) & (w["persons"] < min_cell)
    for c in ("persons", "employers", "underpaid"):
        w.loc[hide, c] = -1
    for c in ("due", "paid", "arrears", "collection_rate"):
        w.loc[hide, c] = np.nan
    w["suppressed"] = hide.astype(np.uint8)
    return w[keys + ["persons", "employers", "due", "paid", "arrears", "collection_rate", "underpaid", "suppressed"]]


class Golden(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.data = contributions(np.random.default_rng(11), 30000)
        cls.glob = write_shards(cls.tmp.name, "contributions", cls.data,
                                widths={"region_code": np.int64, "industry": np.uint16, "insurance": np.int32,
                                        "month": np.int64, "person_id": np.uint64})

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_job(self, ranks, *extra, ok=True):
        out = os.path.join(self.tmp.name, f"out-{ranks}.h5")
        if os.path.exists(out):
            os.remove(out)
        r = pearl("run", JOB, "--input", f"contributions={self.glob}", "--output", out, *extra, ranks=ranks)
        if not ok:
            return r, out
        self.assertEqual(r.returncode, 0, r.stderr)
        return read_output(out, "compliance")[0]

    def check(self, got, by, **kw):
        want = expected(self.data, by, **kw)
        self.assertEqual(list(got.columns), list(want.columns))
        assert_frames(self, got, want, keys=[KEYCOL[b] for b in by],
                      ints=["persons", "employers", "underpaid", "suppressed"],
                      floats=["due", "paid", "arrears", "collection_rate"])
        return want

    def test_default_at_1_to_4_ranks(self):
        for ranks in RANKS:
            with self.subTest(ranks=ranks):
                t = time.time()
                got = self.run_job(ranks)
                want = self.check(got, ["region", "insurance", "month"])
                print(f"\n  default --by at {ranks} ranks: {len(got)} rows, {time.time() - t:.1f} s", file=sys.stderr)
        # The fixture exercises both suppressed and published cells, and a NaN rate.
        self.assertGreater(int(want["suppressed"].sum()), 0)
        self.assertGreater(int((want["suppressed"] == 0).sum()), 0)

    def test_by_orders_levels_and_min_cell(self):
        cases = [
            (["month", "region"], "county", 0),
            (["industry"], "city", 10),
            (["region", "insurance", "industry", "month"], "province", 3),
            (["insurance", "region"], "city", 400),
        ]
        for by, level, min_cell in cases:
            for ranks in (1, 3):
                with self.subTest(by=by, level=level, min_cell=min_cell, ranks=ranks):
                    got = self.run_job(ranks, "--by", ",".join(by), "--region-level", level, "--min-cell", str(min_cell))
                    want = self.check(got, by, level=level, min_cell=min_cell)
                    if min_cell == 0:
                        self.assertTrue(want["collection_rate"].isna().any())  # the due = 0 cell

    def run_paths(self, glob, data, memory, path, rank_counts):
        for ranks in rank_counts:
            with self.subTest(memory=memory, ranks=ranks, rows=len(data)):
                out = os.path.join(self.tmp.name, f"paths-{ranks}.h5")
                r = pearl("run", JOB, "--input", f"contributions={glob}", "--output", out, "--overwrite",
                          "--memory", memory, "--verbose", "--by", "industry,region", ranks=ranks)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(path, r.stderr)
                # Every path keeps each rank within --memory + 25 % + 100 MiB.
                peak = re.search(r"peak RSS \(max over ranks\) .* = (\d+) bytes", r.stderr)
                self.assertIsNotNone(peak, r.stderr)
                budget = int(memory[:-3]) << 20
                self.assertLessEqual(int(peak.group(1)), budget * 1.25 + (100 << 20))
                want = expected(data, ["industry", "region"])
                assert_frames(self, read_output(out, "compliance")[0], want, keys=["industry", "region_code"],
                              ints=["persons", "employers", "underpaid", "suppressed"],
                              floats=["due", "paid", "arrears", "collection_rate"])

    def test_one_pass_several_passes_and_engine_path_agree(self):
        # The distinct pairs fit --memory's share (one read), or not at 1 MiB (more reads,
        # one range of value partitions each; not at 3 ranks, where each rank holds a
        # third), or would need too many reads (300,000 rows at 1 MiB: the engine's
        # spilling path). Each path is named in --verbose and must give the reference.
        self.run_paths(self.glob, self.data, "256MiB", "pairs held", (1, 3))
        self.run_paths(self.glob, self.data, "1MiB", "more passes", (1, 2))
        big = contributions(np.random.default_rng(12), 300000)
        glob = write_shards(os.path.join(self.tmp.name, "big"), "contributions", big)
        self.run_paths(glob, big, "1MiB", "engine path", (1, 2))

    def test_bad_options(self):
        for extra, needle in ((("--by", "region,sex"), "--by"), (("--region-level", "town"), "region-level"),
                              (("--min-cell", "-1"), "min-cell"), (("--by", "month,month"), "--by")):
            with self.subTest(extra=extra):
                r, out = self.run_job(2, *extra, ok=False)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(needle, r.stderr)
                self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main(verbosity=2)
