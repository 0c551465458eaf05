#!/usr/bin/python3
"""End-to-end tests of --on-bad-row fail|skip and of the bad values of issue 16 (findings 7
and 8), at 1-3 ranks.

Health data from data.generate is written back as clean shards and as shards with planted
bad rows (each a copy of a good row with one value outside its contract domain). With
--on-bad-row skip a job on the planted shards must give exactly the output of the same job
on the clean shards, and its `rejects` table must list exactly the planted rows; with the
default (fail) the first bad value is an input error naming file, table, row, column and
value, and no output appears.

Run by CTest with PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS in the environment."""
import glob
import json
import os
import tempfile
import unittest
from functools import partial

import h5py
import numpy as np
import pandas as pd

import pearl_testing
from pearl_testing import read_output, read_shards, write_columnar

pearl = partial(pearl_testing.pearl, timeout=300)
RANKS = (1, 2, 3)
BIG = b"x" * (1 << 20) + b"\xc3"  # 1 MB, and not valid UTF-8 at its end

# (table, shard, position in the planted shard, column, bad value, reason)
PLANTS = [
    ("cases", 0, 5, "age_years", 200, "is not in 0..120"),
    ("cases", 0, 17, "age_years", 121, "is not in 0..120"),
    ("cases", 0, 30, "disease", BIG, "is not valid UTF-8"),
    ("cases", 1, 0, "sex", 7, "is not 1 or 2"),
    ("cases", 1, 40, "sex", 0, "is not 1 or 2"),
    ("cases", 2, 3, "disease", b"B\xff\xfe", "is not valid UTF-8"),
    ("cases", 2, -1, "region_code", 110101, "is not a Guangdong region code"),
    ("population", 0, 2, "sex", 7, "is not 1 or 2"),
    ("population", 0, 9, "population", -5, "is not a count >= 0"),
    ("population", 0, 40, "age_group", 18, "is not in 0..17"),
]


def plant(frame, position, column, value):
    """frame with a copy of a neighbouring good row inserted at `position` (-1: at the end)
    whose `column` is `value`; returns the new frame and the row's index in it."""
    at = len(frame) if position < 0 else position
    kind = frame[column].dtype
    if kind.kind in "ui" and not np.iinfo(kind).min <= value <= np.iinfo(kind).max:
        frame = frame.astype({column: np.int64})  # a generated shard may store a narrower width
    row = frame.iloc[[min(at, len(frame) - 1)]].copy()
    if frame[column].dtype == object:
        row[column] = pd.Series([value], index=row.index, dtype=object)
    else:
        row[column] = np.array([value]).astype(frame[column].dtype)
    return pd.concat([frame.iloc[:at], row, frame.iloc[at:]], ignore_index=True), at


class BadRows(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.d = cls.tmp.name
        r = pearl("run", "data.generate", "--domain", "health", "--rows", "3000", "--shards", "3", "--seed", "5",
                  "--out-dir", f"{d}/gen", ranks=1)
        assert r.returncode == 0, r.stderr
        os.makedirs(f"{d}/clean")
        os.makedirs(f"{d}/bad")
        cls.planted = []  # (realpath of the planted file, row, column, reason)
        for table in ("cases", "population"):
            shards = sorted(glob.glob(f"{d}/gen/{table}-*.h5"))
            assert len(shards) >= 1 + max(p[1] for p in PLANTS if p[0] == table), shards
            for i, path in enumerate(shards):
                frame = read_shards(path, f"/{table}")
                write_columnar(f"{d}/clean/{table}-{i}.h5", frame, table)
                rows = []
                # in position order, so each insertion leaves the earlier ones where they are
                for t, shard, position, column, value, reason in sorted(
                        (p for p in PLANTS if p[0] == table and p[1] == i), key=lambda p: (p[2] < 0, p[2])):
                    frame, at = plant(frame, position, column, value)
                    rows.append((at, column, reason))
                bad = f"{d}/bad/{table}-{i}.h5"
                write_columnar(bad, frame, table)
                cls.planted += [(os.path.realpath(bad), at, column, reason) for at, column, reason in rows]
        assert len(cls.planted) == len(PLANTS), cls.planted
        # A disease code one byte longer than health.incidence's key field (FixedString<32>)
        # in clean data otherwise: the reader finds it (ColumnSpec::max_bytes), not the job.
        os.makedirs(f"{d}/long")
        for table in ("cases", "population"):
            for i, path in enumerate(sorted(glob.glob(f"{d}/clean/{table}-*.h5"))):
                frame = read_shards(path, f"/{table}")
                if table == "cases" and i == 1:
                    frame, at = plant(frame, 12, "disease", "A" * 33)
                    cls.long_row = (os.path.realpath(f"{d}/long/cases-1.h5"), at, "disease",
                                    "is longer than the job's fixed width of 32 bytes")
                write_columnar(f"{d}/long/{table}-{i}.h5", frame, table)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_job(self, data, name, ranks, *args):
        out = f"{self.d}/{name}-{data}-{ranks}.h5"
        r = pearl("run", *args, "--output", out, ranks=ranks)
        self.assertEqual(r.returncode, 0, r.stderr)
        return out, r

    def incidence(self, data):
        return ["health.incidence", "--input", f"cases={self.d}/{data}/cases-*.h5",
                "--input", f"population={self.d}/{data}/population-*.h5", "--min-cell", "0"]

    def aggregate(self, data):
        return ["table.aggregate", "--input", f"table={self.d}/{data}/cases-*.h5:/cases",
                "--by", "region_code,disease,sex", "--sum", "age_years", "--mean", "onset_day"]

    def check_rejects(self, out, planted):
        rejects, types = read_output(out, "rejects")
        self.assertEqual(list(rejects.columns), ["file", "row", "column", "value", "reason"])
        self.assertEqual(types["row"], np.uint64)
        got = sorted((os.path.realpath(f), int(r), c, why) for f, r, c, why in
                     zip(rejects["file"], rejects["row"], rejects["column"], rejects["reason"]))
        self.assertEqual(got, sorted(planted))
        self.assertTrue(all(len(v) < 120 for v in rejects["value"]), "a value in rejects is not shortened")
        with h5py.File(out, "r") as f:
            self.assertEqual(int(f.attrs["rejected_rows"]), len(planted))
            by_reason = json.loads(f.attrs["rejected_by_reason"])
        self.assertEqual(sum(by_reason.values()), len(planted))
        return by_reason

    def test_skip_equals_the_clean_rows_and_lists_exactly_the_planted_ones(self):
        for ranks in RANKS:
            with self.subTest(ranks=ranks):
                clean, _ = self.run_job("clean", "incidence", ranks, *self.incidence("clean"))
                skipped, r = self.run_job("bad", "incidence", ranks, *self.incidence("bad"), "--on-bad-row", "skip")
                want, _ = read_output(clean, "incidence")
                got, _ = read_output(skipped, "incidence")
                pd.testing.assert_frame_equal(got, want)
                by_reason = self.check_rejects(skipped, self.planted)
                self.assertEqual(by_reason["cases.age_years: is not in 0..120"], 2)
                self.assertEqual(by_reason["population.sex: is not 1 or 2"], 1)
                # logged once on rank 0, one line per reason, summed over ranks
                self.assertEqual(r.stderr.count("set aside 10 input rows"), 1, r.stderr)
                self.assertEqual(r.stderr.count("cases.sex: is not 1 or 2: 2"), 1, r.stderr)
                # the clean run has no rejects table and no counts
                with h5py.File(clean, "r") as f:
                    self.assertNotIn("rejects", f)
                    self.assertNotIn("rejected_rows", f.attrs)

    def test_skip_in_table_aggregate(self):
        cases = [p for p in self.planted if "/cases-" in p[0]]
        for ranks in RANKS:
            with self.subTest(ranks=ranks):
                clean, _ = self.run_job("clean", "aggregate", ranks, *self.aggregate("clean"))
                skipped, _ = self.run_job("bad", "aggregate", ranks, *self.aggregate("bad"), "--on-bad-row", "skip")
                pd.testing.assert_frame_equal(read_output(skipped, "aggregate")[0], read_output(clean, "aggregate")[0])
                self.check_rejects(skipped, cases)

    def test_fail_names_file_table_row_column_and_value(self):
        for ranks in RANKS:
            with self.subTest(ranks=ranks):
                out = f"{self.d}/fail-{ranks}.h5"
                r = pearl("run", *self.incidence("bad"), "--output", out, ranks=ranks)
                self.assertEqual(r.returncode, 2, r.stderr)
                # population is read first; its first bad row is row 2 of shard 0
                self.assertIn(f"{self.d}/bad/population-0.h5: table /population: row 2: column 'sex': value 7 "
                              "is not 1 or 2", r.stderr)
                self.assertEqual(r.stderr.count("pearl: error:"), 1, r.stderr)
                self.assertFalse(glob.glob(f"{out}*"), "an output appeared")

    def test_finding7_age_and_sex_of_cases_fail(self):
        # default --by region,disease,year reads no sex, but a declared column is checked anyway
        for column, value, words in (("age_years", 200, "value 200 is not in 0..120"),
                                     ("age_years", 121, "value 121 is not in 0..120"),
                                     ("sex", 7, "value 7 is not 1 or 2"), ("sex", 0, "value 0 is not 1 or 2")):
            with self.subTest(column=column, value=value):
                frame = read_shards(f"{self.d}/clean/cases-0.h5", "/cases")
                frame, at = plant(frame, 11, column, value)
                path = f"{self.d}/one-{column}-{value}.h5"
                write_columnar(path, frame, "cases")
                r = pearl("run", "health.incidence", "--input", f"cases={path}",
                          "--input", f"population={self.d}/clean/population-*.h5",
                          "--output", f"{self.d}/one.h5", ranks=2)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(f"{path}: table /cases: row {at}: column '{column}': {words}", r.stderr)


    def test_a_string_longer_than_the_jobs_fixed_width_is_a_bad_row(self):
        for ranks in RANKS:
            with self.subTest(ranks=ranks, policy="fail"):
                out = f"{self.d}/long-fail-{ranks}.h5"
                r = pearl("run", *self.incidence("long"), "--output", out, ranks=ranks)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(f"{self.d}/long/cases-1.h5: table /cases: row 12: column 'disease': value '{'A' * 33}' "
                              "is longer than the job's fixed width of 32 bytes (--on-bad-row skip sets such rows aside)",
                              r.stderr)
                self.assertEqual(r.stderr.count("pearl: error:"), 1, r.stderr)
                self.assertFalse(glob.glob(f"{out}*"), "an output appeared")
            with self.subTest(ranks=ranks, policy="skip"):
                clean, _ = self.run_job("clean", "width-incidence", ranks, *self.incidence("clean"))
                skipped, _ = self.run_job("long", "width-incidence", ranks, *self.incidence("long"), "--on-bad-row",
                                          "skip")
                pd.testing.assert_frame_equal(read_output(skipped, "incidence")[0], read_output(clean, "incidence")[0])
                by_reason = self.check_rejects(skipped, [self.long_row])
                self.assertEqual(by_reason, {"cases.disease: is longer than the job's fixed width of 32 bytes": 1})


class StringFaults(unittest.TestCase):
    """Finding 8: string faults are found when read, naming the input file and row."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.d = cls.tmp.name

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def table(self, name, disease, **extra):
        n = len(disease)
        path = f"{self.d}/{name}.h5"
        with h5py.File(path, "w") as f:
            g = f.create_group("cases")
            g.create_dataset("region_code", data=np.full(n, 440106, dtype=np.uint32))
            if isinstance(disease, np.ndarray):
                g.create_dataset("disease", data=disease)
            else:
                d = g.create_dataset("disease", shape=(n,), dtype=h5py.string_dtype("utf-8"))
                for i, v in enumerate(disease):
                    d[i] = v
            for k, v in extra.items():
                g.create_dataset(k, data=v)
        return path

    def aggregate(self, path, ranks, *args):
        out = f"{self.d}/out-{os.path.basename(path)}"
        r = pearl("run", "table.aggregate", "--input", f"table={path}:/cases", "--output", out, *args, ranks=ranks)
        self.assertFalse(glob.glob(f"{out}*"), "an output appeared")
        return r

    def test_invalid_utf8_names_the_input_file_and_row_once(self):
        values = [b"A90"] * 10
        values[7] = b"B\xff\xfe"  # in rank 1's share at 2 ranks
        path = self.table("utf8", values)
        for ranks in RANKS:
            with self.subTest(ranks=ranks):
                r = self.aggregate(path, ranks, "--by", "disease")
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(f"{path}: table /cases: row 7: column 'disease': value 'B\\xff\\xfe' is not valid UTF-8",
                              r.stderr)
                self.assertNotIn(".tmp", r.stderr)
                self.assertNotIn("of this rank", r.stderr)
                for k in range(3):
                    self.assertNotIn(f"rank {k}: rank {k}:", r.stderr)

    def test_a_1mb_value_is_never_echoed_whole(self):
        values = [b"A90"] * 6
        values[4] = BIG
        path = self.table("big", values)
        r = self.aggregate(path, 2, "--by", "disease")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertLess(len(r.stderr), 1000, r.stderr[:300])
        self.assertIn("(1048577 bytes)", r.stderr)

    def test_an_embedded_nul_in_a_fixed_string_is_an_error(self):
        path = self.table("nul", np.array([b"J11", b"A9\0X", b"A90\0\0"], dtype="S8"))
        r = self.aggregate(path, 1, "--by", "disease")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{path}: table /cases: row 1: column 'disease': value 'A9\\x00X' holds a NUL byte", r.stderr)
        # a NUL at the end is padding: without row 1 the file is fine
        ok = self.table("nul-ok", np.array([b"J11", b"A90\0\0"], dtype="S8"))
        out = f"{self.d}/nul-ok-out.h5"
        r = pearl("run", "table.aggregate", "--input", f"table={ok}:/cases", "--by", "disease", "--output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(read_output(out, "aggregate")[0]["disease"]), ["A90", "J11"])

    def test_a_complex_column_has_an_unsupported_type(self):
        path = self.table("complex", [b"A90"] * 3, weight=np.array([1 + 2j] * 3))
        for args in (("--by", "region_code", "--sum", "weight"), ("--by", "weight")):
            r = self.aggregate(path, 1, *args)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("column 'weight'", r.stderr)
            self.assertIn("has an unsupported type (compound {r float64, i float64})", r.stderr)
            self.assertIn(path, r.stderr)
            self.assertNotIn("is not in", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
