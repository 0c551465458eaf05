#!/usr/bin/python3
"""Golden test of social.unemployment against pandas (a direct reading of the contract:
spells crossed with month ends, groupby), at 1-4 ranks, over shards in both layouts with
mixed integer widths and an empty shard; spells ending exactly at a month end, on the
first of a month, end_day = -1, ending in their start month; surge months and months with
no new registrations; --region-level, --from-month/--to-month, thresholds; bad options.

Run by CTest (job.social.unemployment) with PEARL_BIN, MPIEXEC, MPIEXEC_FLAGS set."""
import os
import sys
import tempfile
import time
import unittest
import warnings

import numpy as np
import pandas as pd

from pearl_testing import RANKS, read_output

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from social_testlib import assert_frames, day, pearl, write_shards  # noqa: E402

warnings.simplefilter("ignore")
JOB = "social.unemployment"
COUNTIES = np.array([440103, 440106, 440304, 441900, 445302, 445381], dtype=np.uint32)
COLS = ["region_code", "month", "registered", "new_registrations", "employed", "rate", "warning", "surge"]


def last_day(yyyymm):
    p = pd.Period(year=yyyymm // 100, month=yyyymm % 100, freq="M")
    return int((p.end_time.normalize() - pd.Timestamp("1970-01-01")).days)


def first_day(yyyymm):
    return int((pd.Timestamp(year=yyyymm // 100, month=yyyymm % 100, day=1) - pd.Timestamp("1970-01-01")).days)


def months_between(a, b):
    out, m = [], a
    while m <= b:
        out.append(m)
        m = m + 1 if m % 100 < 12 else (m // 100 + 1) * 100 + 1
    return out


def expected(spells, lf, level="city", yellow=3.5, orange=4.5, red=5.5, lo=None, hi=None):
    div = {"county": 1, "city": 100, "province": 10000}[level]
    s = spells.assign(region_code=spells["region_code"].astype(np.int64) // div * div,
                      start_day=spells["start_day"].astype(np.int64), end_day=spells["end_day"].astype(np.int64))
    e = lf.assign(region_code=lf["region_code"].astype(np.int64) // div * div, month=lf["month"].astype(np.int64))
    e = e.groupby(["region_code", "month"], as_index=False)["employed"].sum()
    if lo is not None:
        e = e[e["month"] >= lo]
    if hi is not None:
        e = e[e["month"] <= hi]
    all_months = months_between(200001, 203012)
    rows = []
    for _, r in e.iterrows():
        reg, m = int(r["region_code"]), int(r["month"])
        sr = s[s["region_code"] == reg]
        last = last_day(m)
        registered = int(((sr["start_day"] <= last) & ((sr["end_day"] == -1) | (sr["end_day"] > last))).sum())

        def started(month):
            return int(((sr["start_day"] >= first_day(month)) & (sr["start_day"] <= last_day(month))).sum())
        i = all_months.index(m)
        before = np.array([started(x) for x in all_months[i - 12:i]], dtype=float)
        new = started(m)
        surge = int(new > before.mean() + 3 * before.std(ddof=1))
        employed = int(r["employed"])
        rate = registered / (employed + registered) * 100
        warning = 3 if rate >= red else 2 if rate >= orange else 1 if rate >= yellow else 0
        rows.append((reg, m, registered, new, employed, rate, warning, surge))
    return pd.DataFrame(rows, columns=COLS).sort_values(["region_code", "month"]).reset_index(drop=True)


def fixture(rng, n=6000):
    start = day("2021-01-01") + rng.integers(0, 1095, n)
    dur = np.maximum(15, rng.exponential(150, n).astype(np.int64))
    end = np.where(start + dur > day("2023-12-31"), -1, start + dur)
    spells = pd.DataFrame({
        "person_id": rng.integers(1, 1 << 60, n).astype(np.uint64),
        "region_code": COUNTIES[rng.integers(0, len(COUNTIES), n)],
        "start_day": start.astype(np.int32), "end_day": end.astype(np.int32)})
    # A surge: 300 spells starting in 2023-04 in Dongguan; and edge cases in Jieyang 445381.
    surge = pd.DataFrame({"person_id": np.arange(300, dtype=np.uint64), "region_code": np.uint32(441900),
                          "start_day": (day("2023-04-01") + rng.integers(0, 30, 300)).astype(np.int32),
                          "end_day": np.int32(-1)})
    edge = pd.DataFrame({
        "person_id": np.arange(6, dtype=np.uint64),
        "region_code": np.uint32(445381),
        "start_day": np.array([day("2023-01-10")] * 4 + [day("2023-02-28"), day("2023-03-05")], dtype=np.int32),
        "end_day": np.array([day("2023-01-31"),    # ends on January's last day: not registered at its end
                             day("2023-02-01"),    # registered at the end of January only
                             -1,                   # still registered
                             day("2023-01-20"),    # ends in its start month: never at a month end
                             day("2023-03-31"),    # registered end of Feb, not end of March
                             day("2023-03-04")],   # ends before it starts: counted as new, never registered
                            dtype=np.int32)})
    spells = pd.concat([spells, surge, edge], ignore_index=True)
    lf = []
    for c in COUNTIES:
        for m in months_between(202201, 202312):
            if rng.random() < 0.05:
                continue  # some county-months missing
            lf.append((c, m, int(rng.integers(2000, 60000))))
    lf.append((np.uint32(441900), 202401, 123))  # a month after all spells' starts
    lf = pd.DataFrame(lf, columns=["region_code", "month", "employed"]).astype(
        {"region_code": np.uint32, "month": np.int32, "employed": np.int64})
    return spells, lf


class Golden(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        t = cls.tmp.name
        cls.spells, cls.lf = fixture(np.random.default_rng(21))
        cls.inputs = [
            "--input", "unemployment=" + write_shards(os.path.join(t, "u"), "unemployment", cls.spells,
                                                      widths={"region_code": np.int64, "end_day": np.int64}),
            "--input", "labour_force=" + write_shards(os.path.join(t, "l"), "labour_force", cls.lf,
                                                      widths={"region_code": np.uint64, "employed": np.int32}),
        ]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_job(self, ranks, *extra, ok=True):
        out = os.path.join(self.tmp.name, f"out-{ranks}.h5")
        if os.path.exists(out):
            os.remove(out)
        r = pearl("run", JOB, *self.inputs, "--output", out, *extra, ranks=ranks)
        if not ok:
            return r, out
        self.assertEqual(r.returncode, 0, r.stderr)
        return read_output(out, "unemployment")[0]

    def check(self, got, want):
        self.assertEqual(list(got.columns), COLS)
        assert_frames(self, got, want, keys=["region_code", "month"],
                      ints=["registered", "new_registrations", "employed", "warning", "surge"], floats=["rate"])

    def test_defaults_at_1_to_4_ranks(self):
        want = expected(self.spells, self.lf)
        for ranks in RANKS:
            with self.subTest(ranks=ranks):
                t = time.time()
                self.check(self.run_job(ranks), want)
                print(f"\n  {ranks} ranks: {len(want)} rows, {time.time() - t:.1f} s", file=sys.stderr)
        # The fixture reaches every warning level and the surge.
        self.assertEqual(sorted(want["warning"].unique()), [0, 1, 2, 3])
        surge = want[(want["region_code"] == 441900) & (want["surge"] == 1)]
        self.assertIn(202304, list(surge["month"]))

    def test_county_level_edges_range_and_thresholds(self):
        want = expected(self.spells, self.lf, level="county", yellow=1, orange=2, red=8, lo=202212, hi=202303)
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                got = self.run_job(ranks, "--region-level", "county", "--yellow", "1", "--orange", "2", "--red", "8",
                                   "--from-month", "202212", "--to-month", "202303")
                self.check(got, want)
        j = want[want["region_code"] == 445381].set_index("month")
        # Edge spells (on top of the random ones there): check the differences they make.
        base = expected(self.spells.iloc[:-6], self.lf, level="county", lo=202212, hi=202303)
        b = base[base["region_code"] == 445381].set_index("month")
        self.assertTrue({202301, 202302, 202303} <= set(j.index))  # the fixture's seed keeps these months
        self.assertEqual(j.loc[202301, "registered"] - b.loc[202301, "registered"], 2)  # -1 and 2023-02-01
        self.assertEqual(j.loc[202301, "new_registrations"] - b.loc[202301, "new_registrations"], 4)
        self.assertEqual(j.loc[202302, "registered"] - b.loc[202302, "registered"], 2)  # -1 and 2023-03-31
        self.assertEqual(j.loc[202303, "registered"] - b.loc[202303, "registered"], 1)
        self.assertEqual(j.loc[202303, "new_registrations"] - b.loc[202303, "new_registrations"], 1)

    def test_province_level(self):
        self.check(self.run_job(4, "--region-level", "province"), expected(self.spells, self.lf, level="province"))

    def test_bad_options(self):
        for extra, needle in ((("--from-month", "202313"), "from-month"), (("--yellow", "6"), "yellow"),
                              (("--from-month", "202305", "--to-month", "202301"), "from-month"),
                              (("--region-level", "town"), "region-level")):
            with self.subTest(extra=extra):
                r, out = self.run_job(2, *extra, ok=False)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(needle, r.stderr)
                self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main(verbosity=2)
