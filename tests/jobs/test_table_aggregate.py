#!/usr/bin/python3
"""Golden test of table.aggregate against pandas groupby, at 1, 2, 3 and 4 ranks, over
shards written by h5py and pandas in both layouts, with mixed integer widths, fixed and
variable strings, compressed and empty shards; plus bad input and a killed run.

Run by CTest with PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS in the environment."""
import os
import signal
import subprocess
import tempfile
import time
import unittest
import warnings
from functools import partial

import h5py
import numpy as np
import pandas as pd

import pearl_testing
from pearl_testing import RANKS, pearl_command, read_output, write_columnar, write_compound

warnings.simplefilter("ignore")
pearl = partial(pearl_testing.pearl, timeout=180)


def cases(rng, n):
    diseases = np.array(["A90", "B08.4", "J11", "A15", "登革热"])  # includes a non-ASCII value
    onset = rng.integers(19000, 19400, n).astype(np.int32)
    return pd.DataFrame({
        "case_id": np.arange(n, dtype=np.uint64),
        "sex": rng.integers(1, 3, n).astype(np.uint8),
        "age_years": rng.integers(0, 100, n).astype(np.uint8),
        "region_code": rng.choice([440106, 440305, 441900, 445302, 440111], n).astype(np.uint32),
        "disease": diseases[rng.integers(0, len(diseases), n)],
        "onset_day": onset,
        "weight": rng.normal(50, 10, n),
        "report_day": (onset + rng.integers(0, 30, n)).astype(np.int32),
    })


class Aggregate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        d = cls.dir.name
        rng = np.random.default_rng(7)
        parts = [cases(rng, n) for n in (3000, 0, 2000, 4500, 1200)]
        write_columnar(f"{d}/cases-0.h5", parts[0], "cases")
        write_columnar(f"{d}/cases-1.h5", parts[1], "cases")  # empty shard
        write_columnar(f"{d}/cases-2.h5", parts[2], "cases", widths={"age_years": np.int16, "region_code": np.int64},
                       compress=True, fixed_strings=True, chunk_rows=1000)
        write_compound(f"{d}/cases-3.h5", parts[3], "cases")
        # pandas' table format with data columns: a compound dataset at /cases/table
        parts[4].to_hdf(f"{d}/cases-4.h5", key="cases", format="table", data_columns=True, index=False)
        cls.frame = pd.concat(parts, ignore_index=True)
        cls.glob = f"{d}/cases-*.h5"

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def expected(self, by):
        g = self.frame.groupby(by, sort=True)
        out = pd.DataFrame({"count": g.size()})
        out["sum_age_years"] = g["age_years"].sum().astype(np.int64)
        out["sum_weight"] = g["weight"].sum()
        out["mean_weight"] = g["weight"].mean()
        out["mean_age_years"] = g["age_years"].mean()
        out["min_age_years"] = g["age_years"].min().astype(np.float64)
        out["max_weight"] = g["weight"].max()
        return out.reset_index()

    def check(self, by, ranks, extra=()):
        out = os.path.join(self.dir.name, f"agg-{'-'.join(by)}-{ranks}.h5")
        if os.path.exists(out):  # a rerun replaces it (pearl refuses without --overwrite)
            os.remove(out)
        r = pearl("run", "table.aggregate", "--input", f"table={self.glob}:/cases", "--by", ",".join(by),
                  "--sum", "age_years,weight", "--mean", "weight,age_years", "--min", "age_years",
                  "--max", "weight", "--output", out, *extra, ranks=ranks)
        self.assertEqual(r.returncode, 0, r.stderr)
        got, types = read_output(out, "aggregate")
        want = self.expected(by)
        self.assertEqual(list(got.columns), by + ["count", "sum_age_years", "sum_weight", "mean_weight",
                                                  "mean_age_years", "min_age_years", "max_weight"])
        self.assertEqual(types["count"], np.int64)
        self.assertEqual(types["sum_age_years"], np.int64)
        self.assertEqual(types["sum_weight"], np.float64)
        self.assertEqual(len(got), len(want))
        for c in by + ["count", "sum_age_years"]:
            self.assertEqual(list(got[c]), list(want[c]), c)
        for c in ["sum_weight", "mean_weight", "mean_age_years", "min_age_years", "max_weight"]:
            np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-9, err_msg=c)
        # pandas opens it too
        with h5py.File(out) as f:
            self.assertEqual(f["aggregate"].attrs["job"], "table.aggregate")
        return out

    def test_matches_pandas_groupby_at_every_rank_count(self):
        for ranks in RANKS:
            for by in (["region_code"], ["disease"], ["region_code", "disease"], ["sex", "region_code", "onset_day"]):
                with self.subTest(ranks=ranks, by=by):
                    self.check(by, ranks)

    def test_every_slot_width_gives_the_pandas_table(self):
        # The job keeps each group's aggregates in 1, 2, 4, 8 or 32 slots, whichever is the
        # smallest that fits: each width is its own code path.
        by = ["region_code", "disease"]
        g = self.frame.groupby(by, sort=True)
        cases = [
            ((), {}),  # count: 1 slot
            (("--sum", "age_years"), {"sum_age_years": g["age_years"].sum()}),  # 2
            (("--sum", "age_years", "--min", "weight", "--max", "weight"),  # 4
             {"sum_age_years": g["age_years"].sum(), "min_weight": g["weight"].min(), "max_weight": g["weight"].max()}),
            (("--sum", "age_years", "--mean", "weight", "--max", "weight"),  # 5: 8 slots
             {"sum_age_years": g["age_years"].sum(), "mean_weight": g["weight"].mean(),
              "max_weight": g["weight"].max()}),
        ]
        for ranks in RANKS:
            for k, (aggregates, columns) in enumerate(cases):
                with self.subTest(ranks=ranks, aggregates=aggregates):
                    out = os.path.join(self.dir.name, f"slots-{k}-{ranks}.h5")
                    if os.path.exists(out):  # a rerun replaces it (pearl refuses without --overwrite)
                        os.remove(out)
                    r = pearl("run", "table.aggregate", "--input", f"table={self.glob}:/cases", "--by", ",".join(by),
                              *aggregates, "--output", out, ranks=ranks)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    got, _ = read_output(out, "aggregate")
                    want = pd.DataFrame({"count": g.size(), **columns}).reset_index()
                    self.assertEqual(list(got.columns), list(want.columns))
                    for c in by + ["count"] + [c for c in columns if c.startswith("sum_")]:
                        self.assertEqual(list(got[c]), list(want[c]), c)
                    for c in [c for c in columns if not c.startswith("sum_")]:
                        np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-12, err_msg=c)

    def test_spilling_and_threads_give_the_same_table(self):
        for ranks in (1, 3):
            with self.subTest(ranks=ranks):
                self.check(["case_id"], ranks, extra=("--memory", "1MiB", "--threads", "2"))

    def test_derived_columns_match_pandas(self):
        f = self.frame
        delay = f["report_day"].astype(np.int64) - f["onset_day"]
        f = f.assign(delay=delay, late=delay / 7, heavy=f["weight"] * 2 + f["age_years"] / 3 - 1,
                     span=-(f["age_years"].astype(np.int64) + 1) * (f["sex"].astype(np.int64) - 3),
                     over7=(delay > 7).astype(np.int64), light=(f["weight"] <= 45).astype(np.int64))
        derive = ("--derive", "delay=report_day-onset_day", "--derive", "late = delay / 7",
                  "--derive", "heavy=weight*2+age_years/3-1", "--derive", "span=-(age_years+1)*(sex-3)",
                  "--derive", "over7=delay>7", "--derive", "light=weight<=45")
        for ranks in RANKS:
            for by in (["disease"], ["delay"], ["region_code", "delay"]):
                with self.subTest(ranks=ranks, by=by):
                    out = os.path.join(self.dir.name, f"derive-{'-'.join(by)}-{ranks}.h5")
                    if os.path.exists(out):  # a rerun replaces it (pearl refuses without --overwrite)
                        os.remove(out)
                    r = pearl("run", "table.aggregate", "--input", f"table={self.glob}:/cases", "--by", ",".join(by),
                              *derive, "--sum", "delay,heavy,span,over7", "--mean", "late,delay,over7,light",
                              "--min", "heavy",
                              "--max", "delay", "--output", out, ranks=ranks)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    got, types = read_output(out, "aggregate")
                    g = f.groupby(by, sort=True)
                    want = pd.DataFrame({"count": g.size(), "sum_delay": g["delay"].sum(), "sum_heavy": g["heavy"].sum(),
                                         "sum_span": g["span"].sum(), "sum_over7": g["over7"].sum(),
                                         "mean_late": g["late"].mean(), "mean_delay": g["delay"].mean(),
                                         "mean_over7": g["over7"].mean(), "mean_light": g["light"].mean(),
                                         "min_heavy": g["heavy"].min(),
                                         "max_delay": g["delay"].max().astype(np.float64)}).reset_index()
                    self.assertEqual(list(got.columns), list(want.columns))
                    # integer arithmetic stays integer (int64), as in pandas; division gives float64
                    self.assertEqual(types["sum_delay"], np.int64)
                    self.assertEqual(types["sum_span"], np.int64)
                    if "delay" in by:
                        self.assertEqual(types["delay"], np.int64)
                    self.assertEqual(types["sum_over7"], np.int64)  # a comparison is 1 or 0: int64
                    for c in by + ["count", "sum_delay", "sum_span", "sum_over7"]:
                        self.assertEqual(list(got[c]), list(want[c]), c)
                    for c in ("sum_heavy", "mean_late", "mean_delay", "mean_over7", "mean_light", "min_heavy",
                              "max_delay"):
                        np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-9, err_msg=c)

    def test_derive_errors_name_the_option_and_position(self):
        out = os.path.join(self.dir.name, "derive-bad.h5")
        cases_ = [
            ("delay=report_dy-onset_day", ["--derive 'delay=report_dy-onset_day'", "unknown column 'report_dy'",
                                           "position 7"]),
            ("delay=(report_day-onset_day", ["--derive", "the '(' is never closed at position 7"]),
            ("delay=report_day-", ["--derive", "an operand was expected at position 18"]),
            ("sex=sex+1", ["--derive 'sex=sex+1'", "'sex' is a column of input 'table'"]),
            ("d=disease+1", ["--derive", "column 'disease' at position 3 is a string column"]),
            ("late=delay>7>1", ["--derive", "comparisons do not chain"]),
        ]
        for ranks in (1, 3):
            for value, fragments in cases_:
                with self.subTest(ranks=ranks, value=value):
                    r = pearl("run", "table.aggregate", "--input", f"table={self.glob}:/cases", "--by", "region_code",
                              "--derive", value, "--output", out, ranks=ranks)
                    self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                    errors = [l for l in r.stderr.splitlines() if l.startswith("pearl: error")]
                    self.assertEqual(len(errors), 1, r.stderr)
                    for fragment in fragments:
                        self.assertIn(fragment, errors[0])
                    self.assertFalse(os.path.exists(out), "no output on failure")
        # int64 overflow: an input error naming the row (case_id 2 is row 2 of the first shard)
        r = pearl("run", "table.aggregate", "--input", f"table={self.glob}:/cases", "--by", "region_code",
                  "--derive", "big=case_id*9223372036854775807", "--sum", "big", "--output", out, ranks=1)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("--derive 'big=case_id*9223372036854775807': row 2 of input 'table'", r.stderr)
        self.assertIn("2 * 9223372036854775807", r.stderr)
        self.assertFalse(os.path.exists(out), "no output on failure")

    def test_csv_copy(self):
        csv_dir = os.path.join(self.dir.name, "csv")
        os.makedirs(csv_dir, exist_ok=True)
        out = self.check(["disease"], 2, extra=("--csv", csv_dir))
        got = pd.read_csv(os.path.join(csv_dir, "aggregate.csv"))
        h5, _ = read_output(out, "aggregate")
        self.assertEqual(list(got["disease"]), list(h5["disease"]))
        self.assertEqual(list(got["count"]), list(h5["count"]))


def groups_path(stderr):
    """How rank 0 says the dense arrays' groups reached the output: "exchange" (one
    reduce-scatter of the arrays, jobs/table/dense_reduce.hpp) or "engine"."""
    import re
    m = re.search(r"table\.aggregate: groups (of the dense arrays reduced in one exchange|through the engine)", stderr)
    if m is None:
        raise AssertionError("no table.aggregate groups line in:\n" + stderr)
    return "exchange" if "exchange" in m.group(1) else "engine"


def paths_taken(stderr):
    """Rank 0's (rows, through the dense array, restarts, row by row) from --verbose."""
    import re
    m = re.search(r"table\.aggregate: (\d+) rows, (\d+) through the dense array \((\d+) restarts\), (\d+) row by row",
                  stderr)
    if m is None:
        raise AssertionError("no table.aggregate progress line in:\n" + stderr)
    return tuple(int(x) for x in m.groups())


class DenseArray(unittest.TestCase):
    """Integer keys with small ranges are counted in a dense array per map thread
    (jobs/table/dense_groups.hpp); keys too wide for it go row by row. Both paths, and the
    array's widening and restarting, must give pandas' groupby exactly."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        d = cls.dir.name
        rng = np.random.default_rng(11)
        # Sorted keys (25,000 of them, 8 rows each): every block of rows has a narrow range,
        # the whole input a wide one, so a small array keeps restarting.
        n = 200_000
        w = rng.normal(0, 1, n)
        w[rng.random(n) < 0.05] = np.nan
        cls.sorted = pd.DataFrame({"key": np.arange(n, dtype=np.int64) // 8,
                                   "v": rng.integers(-1000, 1000, n).astype(np.int32), "w": w})
        write_columnar(f"{d}/sorted-0.h5", cls.sorted.iloc[:120_000], table="t")
        write_columnar(f"{d}/sorted-1.h5", cls.sorted.iloc[120_000:], table="t",
                       widths={"key": np.int32, "v": np.int16})
        # Signed keys of several widths, and uint64 keys past int64 (never in the array).
        m = 60_000
        cls.signed = pd.DataFrame({
            "a": rng.integers(-128, 128, m).astype(np.int8),
            "b": rng.integers(-300, 301, m).astype(np.int16),
            "c": rng.integers(-5, 6, m).astype(np.int32),
            "big": (np.uint64(2**63) + rng.integers(0, 10, m).astype(np.uint64)),
            "w": rng.normal(0, 1, m),
            # int32 extremes: an array laid out near the top of int32, then rows near the
            # bottom (the bounds check clamps the array's ranges to the column's type)
            "edge": np.concatenate([rng.integers(2**31 - 600, 2**31, m // 2),
                                    rng.integers(-2**31, -2**31 + 600, m - m // 2)]).astype(np.int32),
        })
        write_columnar(f"{d}/signed.h5", cls.signed, table="t")

        # Compact keys whose ranges move through the input: each rank's (and each map
        # thread's) array covers another part of the union, and 2 % of rows anywhere in it,
        # so most cells are held by some ranks only and some by several.
        k = 40_000
        idx = np.arange(k)
        w = rng.normal(0, 1, k)
        w[rng.random(k) < 0.05] = np.nan
        cls.moving = pd.DataFrame({
            "a": np.where(rng.random(k) < 0.02, rng.integers(-20, 20, k), idx // 1000 - 20).astype(np.int16),
            "b": rng.integers(0, 10, k).astype(np.uint8),
            "v": rng.integers(-1000, 1000, k).astype(np.int32), "w": w,
            # min of positive and max of negative values: a cell folded with an empty
            # one (all slots 0) would come out as 0
            "u": rng.uniform(1, 2, k)})
        cls.moving["nu"] = -cls.moving["u"]
        for i in range(4):
            write_columnar(f"{d}/moving-{i}.h5", cls.moving.iloc[i * 10_000:(i + 1) * 10_000], table="t")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def run_job(self, glob, by, ranks, extra=(), stderr=None):
        """Runs with --verbose; appends its stderr to the list `stderr` if given."""
        out = os.path.join(self.dir.name, f"out-{'-'.join(by)}-{ranks}-{abs(hash(extra))}.h5")
        if os.path.exists(out):  # a rerun replaces it (pearl refuses without --overwrite)
            os.remove(out)
        r = pearl("run", "table.aggregate", "--input", f"table={glob}:/t", "--by", ",".join(by), "--output", out,
                  "--verbose", *extra, ranks=ranks)
        self.assertEqual(r.returncode, 0, r.stderr)
        got, _ = read_output(out, "aggregate")
        if stderr is not None:
            stderr.append(r.stderr)
        return got, paths_taken(r.stderr)

    def test_dense_arrays_of_all_ranks_are_reduced_in_one_exchange(self):
        frame = self.moving
        g = frame.groupby(["a", "b"], sort=True)
        want = pd.DataFrame({"count": g.size(), "sum_v": g["v"].sum().astype(np.int64), "sum_w": g["w"].sum(),
                             "mean_w": g["w"].mean(), "min_u": g["u"].min(), "max_nu": g["nu"].max()}).reset_index()
        aggregates = ("--sum", "v,w", "--mean", "w", "--min", "u", "--max", "nu")
        for ranks in RANKS:
            for threads in ("1", "2"):
                with self.subTest(ranks=ranks, threads=threads):
                    logs = []
                    got, (rows, dense, _, by_row) = self.run_job(
                        f"{self.dir.name}/moving-*.h5", ["a", "b"], ranks, (*aggregates, "--threads", threads), logs)
                    self.assertEqual((dense, by_row), (rows, 0))
                    self.assertEqual(groups_path(logs[0]), "exchange")
                    for c in ("a", "b", "count", "sum_v"):
                        self.assertEqual(list(got[c]), list(want[c]), c)
                    for c in ("sum_w", "mean_w", "min_u", "max_nu"):
                        np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-12, err_msg=c)

    def test_sparse_or_spilled_arrays_go_through_the_engine(self):
        # Two keys 1,000 apart fill 2 cells of 1,001: moving the array would not pay.
        sparse = pd.DataFrame({"key": np.tile(np.array([0, 1000], dtype=np.int32), 5000)})
        write_columnar(f"{self.dir.name}/sparse.h5", sparse, table="t")
        for ranks in RANKS:
            with self.subTest(ranks=ranks, case="sparse"):
                logs = []
                got, _ = self.run_job(f"{self.dir.name}/sparse.h5", ["key"], ranks, (), logs)
                self.assertEqual(groups_path(logs[0]), "engine")
                self.assertEqual((list(got["key"]), list(got["count"])), ([0, 1000], [5000, 5000]))
            # an array that restarted (64-byte cells, a 1,024-cell array) handed groups to
            # the engine early: all go that way
            with self.subTest(ranks=ranks, case="restarts"):
                logs = []
                got, (_, _, restarted, _) = self.run_job(f"{self.dir.name}/sorted-*.h5", ["key"], ranks,
                                                          ("--sum", "v", "--memory", "1MiB"), logs)
                self.assertGreater(restarted, 0)
                self.assertEqual(groups_path(logs[0]), "engine")
                want = self.sorted.groupby("key", sort=True).size()
                self.assertEqual(list(got["count"]), list(want))

    def test_sorted_keys_widen_and_restart_the_array(self):
        frame = self.sorted
        g = frame.groupby("key", sort=True)
        want = pd.DataFrame({"count": g.size(), "sum_v": g["v"].sum().astype(np.int64), "mean_w": g["w"].mean(),
                             "min_w": g["w"].min(), "max_v": g["v"].max().astype(np.float64)}).reset_index()
        aggregates = ("--sum", "v", "--mean", "w", "--min", "w", "--max", "v")
        for ranks in RANKS:
            for memory, array, restarts in (("1GiB", "true", False), ("1MiB", "true", True), ("1GiB", "false", False)):
                with self.subTest(ranks=ranks, memory=memory, dense_array=array):
                    got, (rows, dense, restarted, by_row) = self.run_job(
                        f"{self.dir.name}/sorted-*.h5", ["key"], ranks,
                        (*aggregates, "--memory", memory, f"--dense-array={array}"))
                    self.assertEqual((dense, by_row), (rows, 0) if array == "true" else (0, rows))
                    # 1 MiB: a 1,024-cell array; each block of rows spans 512 keys, the input 25,000
                    self.assertEqual(restarted > 0, restarts, restarted)
                    self.assertEqual(list(got["key"]), list(want["key"]))
                    for c in ("count", "sum_v"):
                        self.assertEqual(list(got[c]), list(want[c]), c)
                    for c in ("mean_w", "min_w", "max_v"):
                        np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-12, err_msg=c)

    def test_signed_keys_in_the_array_and_wide_keys_row_by_row(self):
        frame = self.signed
        glob = f"{self.dir.name}/signed.h5"
        for ranks in RANKS:
            # count only: 256 x 601 x 11 cells of 8 bytes fit the array (16 MiB)
            with self.subTest(ranks=ranks, case="dense"):
                got, (rows, dense, _, by_row) = self.run_job(glob, ["a", "b", "c"], ranks)
                self.assertEqual((dense, by_row), (rows, 0))
                want = frame.groupby(["a", "b", "c"], sort=True).size().reset_index(name="count")
                for c in ("a", "b", "c", "count"):
                    self.assertEqual(list(got[c]), list(want[c]), c)
            # with a sum, cells are 64 bytes: the same keys no longer fit, rows go one by one
            with self.subTest(ranks=ranks, case="row by row"):
                got, (rows, dense, _, by_row) = self.run_job(glob, ["a", "b", "c"], ranks, ("--sum", "w"))
                self.assertEqual((dense, by_row), (0, rows))
                g = frame.groupby(["a", "b", "c"], sort=True)
                want = pd.DataFrame({"count": g.size(), "sum_w": g["w"].sum()}).reset_index()
                for c in ("a", "b", "c", "count"):
                    self.assertEqual(list(got[c]), list(want[c]), c)
                np.testing.assert_allclose(got["sum_w"].to_numpy(), want["sum_w"].to_numpy(), rtol=1e-9)
            # int32 values at both ends: never counted in a cell of the other end
            with self.subTest(ranks=ranks, case="int32 extremes"):
                got, (rows, dense, _, by_row) = self.run_job(glob, ["edge", "c"], ranks)
                self.assertGreater(dense, rows // 2)
                want = frame.groupby(["edge", "c"], sort=True).size().reset_index(name="count")
                for c in ("edge", "c", "count"):
                    self.assertEqual(list(got[c]), list(want[c]), c)
            # uint64 values past int64 cannot be placed in the array
            with self.subTest(ranks=ranks, case="uint64"):
                got, (rows, dense, _, by_row) = self.run_job(glob, ["big"], ranks)
                self.assertEqual((dense, by_row), (0, rows))
                want = frame.groupby("big", sort=True).size().reset_index(name="count")
                self.assertEqual(list(got["big"]), list(want["big"]))
                self.assertEqual(list(got["count"]), list(want["count"]))


class BadInput(unittest.TestCase):
    """Each bad input: exit 2, one clear line naming the file and the problem, no output."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        d = cls.dir.name
        rng = np.random.default_rng(3)
        df = cases(rng, 500)
        write_columnar(f"{d}/good.h5", df, "cases")
        with open(f"{d}/good.h5", "rb") as src, open(f"{d}/truncated.h5", "wb") as dst:
            dst.write(src.read()[:3000])
        with open(f"{d}/text.h5", "w") as f:
            f.write("region_code,count\n440106,3\n")
        write_columnar(f"{d}/floatcol.h5", df.assign(region_code=df.region_code.astype(np.float64)), "cases")
        # region_code stored as int64 holding a value beyond the contract's uint32
        write_columnar(f"{d}/lossy.h5", df.assign(region_code=np.full(len(df), 5_000_000_000, dtype=np.int64)), "cases")
        write_columnar(f"{d}/nocol.h5", df.drop(columns=["disease"]), "cases")
        df.to_hdf(f"{d}/packed.h5", key="cases")  # pandas' default: block-packed, refused
        cls.d = d

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def expect_error(self, file, by, fragments, ranks):
        out = os.path.join(self.d, "out.h5")
        if os.path.exists(out):
            os.remove(out)  # left by an earlier failed case: judge each case on its own
        r = pearl("run", "table.aggregate", "--input", f"table={file}:/cases", "--by", by, "--sum", "age_years",
                  "--output", out, ranks=ranks, timeout=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        errors = [l for l in r.stderr.splitlines() if l.startswith("pearl: error")]
        self.assertEqual(len(errors), 1, r.stderr)
        for f in fragments:
            self.assertIn(f, errors[0])
        self.assertFalse(os.path.exists(out), "no output on failure")
        self.assertEqual([n for n in os.listdir(self.d) if n.startswith(".out.h5")], [], "no temporary left")

    def test_bad_inputs(self):
        d = self.d
        cases_ = [
            (f"{d}/truncated.h5", "region_code", ["truncated.h5"]),
            (f"{d}/text.h5", "region_code", ["text.h5", "not an HDF5 file"]),
            (f"{d}/floatcol.h5", "region_code", ["floatcol.h5", "region_code"]),
            (f"{d}/lossy.h5", "region_code", ["lossy.h5", "region_code", "5000000000"]),
            (f"{d}/nocol.h5", "disease", ["nocol.h5", "disease"]),
            (f"{d}/packed.h5", "region_code", ["packed.h5", "data_columns=True"]),
            (f"{d}/missing-*.h5", "region_code", ["missing-*.h5"]),
        ]
        for ranks in RANKS:
            for file, by, fragments in cases_:
                with self.subTest(ranks=ranks, file=os.path.basename(file)):
                    self.expect_error(file, by, fragments, ranks)

    def test_unreadable_file(self):
        """A shard the user may not read. Root reads through permission bits, so the run
        drops to the unprivileged user 'nobody' (setpriv, util-linux) when run as root."""
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o777)  # nobody must list it and write the output there
            write_columnar(f"{d}/a.h5", cases(np.random.default_rng(4), 100), "cases")
            write_columnar(f"{d}/b.h5", cases(np.random.default_rng(5), 100), "cases")
            os.chmod(f"{d}/a.h5", 0o644)
            os.chmod(f"{d}/b.h5", 0o000)
            out = f"{d}/out.h5"
            as_user = []
            env = dict(os.environ)
            if os.geteuid() == 0:
                as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
                env.pop("OMPI_ALLOW_RUN_AS_ROOT", None)
                env.pop("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", None)
                env["HOME"] = d
            for ranks in RANKS:
                with self.subTest(ranks=ranks):
                    cmd = [*as_user, *pearl_command("run", "table.aggregate", "--input", f"table={d}/*.h5:/cases",
                                                    "--by", "region_code", "--output", out, ranks=ranks)]
                    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
                    self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                    errors = [l for l in r.stderr.splitlines() if l.startswith("pearl: error")]
                    self.assertEqual(len(errors), 1, r.stderr)
                    self.assertIn("b.h5", errors[0])
                    self.assertIn("Permission denied", errors[0])
                    self.assertFalse(os.path.exists(out), "no output on failure")


class KilledRun(unittest.TestCase):
    def test_sigkill_during_write_leaves_nothing_at_the_output_path(self):
        with tempfile.TemporaryDirectory() as d:
            rng = np.random.default_rng(5)
            write_columnar(f"{d}/c.h5", cases(rng, 20000), "cases")
            out = f"{d}/result.h5"
            env = dict(os.environ, PEARL_TEST_HOLD_BEFORE_COMMIT="60")
            cmd = pearl_command("run", "table.aggregate", "--input", f"table={d}/c.h5:/cases", "--by", "case_id",
                                "--output", out, ranks=2)
            p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            # The temporary is reserved (empty) before the run and written after it.
            def written():
                return [n for n in os.listdir(d) if n.startswith(".result.h5.tmp") and os.path.getsize(f"{d}/{n}") > 0]
            deadline = time.time() + 60
            while time.time() < deadline and not written():
                time.sleep(0.1)
            time.sleep(0.5)
            self.assertTrue(written(), "the write had started")
            # kill -9 of rank 0 (the temporary's name carries its pid) and of the launcher.
            stale = written()
            self.assertEqual(len(stale), 1)
            rank0 = int(stale[0].rsplit("+", 1)[1].split("-")[0])
            os.kill(rank0, signal.SIGKILL)
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)
            self.assertFalse(os.path.exists(out))

            def gone(pid):  # no such process, or killed and not reaped (state Z)
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        return f.read().rsplit(")", 1)[1].split()[0] in "ZX"
                except FileNotFoundError:
                    return True
            deadline = time.time() + 30
            while time.time() < deadline and not gone(rank0):
                time.sleep(0.1)
            # SIGKILL leaves the temporary; the next run into the same directory removes it.
            self.assertEqual(written(), stale)
            r = pearl("run", "table.aggregate", "--input", f"table={d}/c.h5:/cases", "--by", "case_id",
                      "--output", out, ranks=2)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"removed temporary output {d}/{stale[0]} of a run that died", r.stderr)
            self.assertEqual([n for n in os.listdir(d) if ".tmp" in n], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
