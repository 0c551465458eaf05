#!/usr/bin/python3
"""Golden test of demo.sum against pandas: the same generated events (MurmurHash3's
finaliser in NumPy), grouped with pandas, at 1-4 ranks and 1-2 threads."""
import unittest

import numpy as np
import pandas as pd

from pearl_testing import pearl


def mix64(x):
    x = x.copy()
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(33)
        x *= np.uint64(0xFF51AFD7ED558CCD)
        x ^= x >> np.uint64(33)
        x *= np.uint64(0xC4CEB9FE1A85EC53)
        x ^= x >> np.uint64(33)
    return x


def expected(rows, keys, seed):
    i = np.arange(rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = mix64(i ^ (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)))
    df = pd.DataFrame({"key": (h % np.uint64(keys)).astype(np.int64), "amount": (h >> np.uint64(48)).astype(np.int64)})
    g = df.groupby("key").amount
    return pd.DataFrame({"count": g.size(), "sum": g.sum(), "min": g.min(), "max": g.max()}).reset_index()


class DemoSum(unittest.TestCase):
    def test_matches_pandas(self):
        rows, keys, seed, show = 200_000, 3000, 11, 50
        want = expected(rows, keys, seed)
        for ranks in (1, 2, 3, 4):
            for threads in (1, 2):
                with self.subTest(ranks=ranks, threads=threads):
                    r = pearl("run", "demo.sum", "--rows", str(rows), "--keys", str(keys), "--seed", str(seed),
                              "--show", str(show), "--threads", str(threads), ranks=ranks, timeout=120)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    lines = r.stdout.splitlines()
                    self.assertIn(f"{rows} events, {len(want)} keys, total amount {want['sum'].sum()}", lines[0])
                    table = [l.split() for l in lines[2:2 + show]]
                    # zip stops at the shorter list: a short or empty table must fail, not pass.
                    self.assertGreaterEqual(len(want), show)
                    self.assertEqual(len(table), show, r.stdout)
                    self.assertTrue(all(len(row) == 6 for row in table), r.stdout)
                    for row, (_, w) in zip(table, want.head(show).iterrows(), strict=True):
                        self.assertEqual([int(row[0]), int(row[1]), int(row[2]), int(row[4]), int(row[5])],
                                         [w.key, w["count"], w["sum"], w["min"], w["max"]])
                        self.assertAlmostEqual(float(row[3]), w["sum"] / w["count"], places=2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
