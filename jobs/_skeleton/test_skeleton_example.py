#!/usr/bin/python3
"""Golden test of skeleton.example against pandas, at each rank count of
pearl_testing.RANKS (1-4 unless PEARL_TEST_RANKS says otherwise), plus its input checks.

Run by CTest (job.skeleton.example), which sets PEARL_BIN, MPIEXEC, MPIEXEC_FLAGS (and
PEARL_PLUGIN, PEARL_TEST_RANKS for a plugin) and puts pearl_testing on PYTHONPATH: the
launcher, the shard writers and readers and the table comparison come from there.
docs/writing-a-job.md shows how to run it alone."""
import os
import tempfile
import unittest
from functools import partial

import numpy as np
import pandas as pd

import pearl_testing
from pearl_testing import assert_tables_close, read_output, write_columnar

JOB = "skeleton.example"
pearl = partial(pearl_testing.pearl, timeout=300)


def expected(df, min_count):
    g = df.groupby("key")["value"]
    want = pd.DataFrame({"count": g.size(), "sum": g.sum()}).reset_index()
    return want[want["count"] >= min_count].reset_index(drop=True)


class Golden(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        rng = np.random.default_rng(7)
        parts = []
        for i, n in enumerate((5000, 1, 12000)):  # uneven shards, one of a single row
            df = pd.DataFrame({"key": rng.integers(-50, 400, n).astype(np.int64),
                               "value": rng.normal(10, 3, n)})
            if i == 1:  # stored narrower than declared: converts without loss
                df["key"] = df["key"].astype(np.int32)
            write_columnar(os.path.join(cls.tmp.name, f"events-{i}.h5"), df, "events")
            parts.append(df.astype({"key": np.int64}))
        cls.data = pd.concat(parts, ignore_index=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_job(self, ranks, *extra):
        out = os.path.join(self.tmp.name, f"out-{ranks}.h5")
        if os.path.exists(out):  # a rerun replaces it (pearl refuses without --overwrite)
            os.remove(out)
        r = pearl("run", JOB, "--input", f"events={self.tmp.name}/events-*.h5", "--output", out, *extra, ranks=ranks)
        self.assertEqual(r.returncode, 0, r.stderr)
        got, _ = read_output(out, "totals")
        return got

    def test_matches_pandas(self):
        for min_count in (1, 40):
            want = expected(self.data, min_count)
            for ranks in pearl_testing.RANKS:
                with self.subTest(ranks=ranks, min_count=min_count):
                    got = self.run_job(ranks, "--min-count", str(min_count))
                    assert_tables_close(got, want, rtol=1e-12)  # keys and counts exactly

    def test_missing_declared_column_is_an_input_error(self):
        bad = os.path.join(self.tmp.name, "bad")
        os.mkdir(bad)
        write_columnar(os.path.join(bad, "events-0.h5"), pd.DataFrame({"key": np.arange(3, dtype=np.int64)}), "events")
        r = pearl("run", JOB, "--input", f"events={bad}/events-*.h5", "--output", os.path.join(bad, "o.h5"), ranks=2)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("value", r.stderr)
        messages = [l for l in r.stderr.splitlines() if l.startswith("pearl")]  # not the launcher's
        self.assertEqual(len(messages), 1, r.stderr)
        self.assertIn("no column 'value'", messages[0])
        self.assertFalse(os.path.exists(os.path.join(bad, "o.h5")))

    def test_describe_shows_the_declaration(self):
        r = pearl("describe", JOB)
        self.assertEqual(r.returncode, 0, r.stderr)
        for text in ("events (required)", "key", "int64", "value", "float64", "--min-count", "(=1)", "table totals"):
            self.assertIn(text, r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
