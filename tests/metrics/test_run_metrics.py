"""Run metrics (OUT.metrics.json) of a 4-rank run add up: rows read equal the input rows,
pairs after combining are at most the pairs emitted, the bytes all ranks sent equal the
bytes they received, and each rank's peak RSS is what the OS reports for that process
(/usr/bin/time's maximum resident set size, from wait4, read outside pearl). A failed run
leaves OUT.failed.metrics.json with its error and no result."""
import glob
import json
import os
import subprocess
import tempfile
import unittest

import h5py
import numpy as np
import pandas as pd

from pearl_testing import MPIEXEC, MPIEXEC_FLAGS, PEARL, pearl, write_columnar

ROWS = 200_000


class RunMetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        d = cls.dir.name
        rng = np.random.default_rng(7)
        for i, n in enumerate((ROWS // 2, ROWS // 4, ROWS // 4)):
            df = pd.DataFrame({"id": rng.integers(0, 5000, n).astype(np.int64), "v": rng.random(n)})
            write_columnar(f"{d}/in-{i}.h5", df, "t")
        cls.glob = f"{d}/in-*.h5"

    def run_four(self, out, *extra, memory="64MiB"):
        # Each rank under /usr/bin/time: the OS's own account of its peak RSS, per rank.
        rank_var = "${OMPI_COMM_WORLD_RANK:-$PMI_RANK}"
        inner = (f'exec /usr/bin/time -f %M -o {self.dir.name}/rss.{rank_var} "$@"')
        cmd = [MPIEXEC, "-n", "4", *MPIEXEC_FLAGS, "sh", "-c", inner, "sh", PEARL, "run", "table.aggregate",
               "--input", f"table={self.glob}:/t", "--by", "id", "--sum", "v", "--memory", memory,
               # the engine's shuffle, not the dense arrays that fold small integer keys in the map
               "--dense-array", "false",
               "--output", out, *extra]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)

    def test_four_ranks_add_up(self):
        out = f"{self.dir.name}/agg.h5"
        r = self.run_four(out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(f"{self.dir.name}/agg.metrics.json") as f:
            m = json.load(f)
        self.assertEqual(m["ranks"], 4)
        self.assertEqual(m["exit_status"], 0)
        self.assertIsNone(m["error"])
        self.assertEqual([s["name"] for s in m["stages"]], ["check", "inputs", "run", "write", "commit"])
        self.assertTrue(m["hdf5_version"].startswith("1."))
        self.assertEqual(len(m["hosts"]), 4)

        rows = sum(r["rows_read"] for s in m["stages"] for r in s["per_rank"])
        self.assertEqual(rows, ROWS)
        self.assertEqual(sum(r["rows_expected"] for r in m["per_rank"]), ROWS)
        self.assertGreater(sum(s["total"].get("bytes_read", 0) for s in m["stages"]), ROWS * 8)

        ops = m["operations"]
        self.assertGreater(len(ops), 0)
        emitted = sum(o["total"]["pairs_emitted"] for o in ops)
        combined = sum(o["total"]["pairs_after_combining"] for o in ops)
        self.assertGreater(emitted, 0)
        self.assertLessEqual(combined, emitted)
        sent = sum(r["bytes_sent"] for o in ops for r in o["per_rank"])
        received = sum(r["bytes_received"] for o in ops for r in o["per_rank"])
        self.assertGreater(sent, 0)
        self.assertEqual(sent, received)
        for s in m["stages"]:
            self.assertGreaterEqual(s["total"]["imbalance"], 1.0)

        # Peak RSS: what getrusage says inside the process, and what the OS told
        # /usr/bin/time when the process ended (it can only have grown since).
        # The kernel batches RSS counter updates per thread (64 page events each), so two
        # readings of the same high-water mark may differ by that much per thread.
        slack = 1 << 20
        for rank in m["per_rank"]:
            self.assertLessEqual(abs(rank["peak_rss_bytes"] - rank["max_rss_bytes_getrusage"]), slack, rank)
            with open(f"{self.dir.name}/rss.{rank['rank']}") as f:
                os_kib = int(f.read().split()[-1])
            self.assertLessEqual(rank["peak_rss_bytes"], os_kib * 1024 + slack, rank)
            # the gather and the JSON writing after the measurement touch at most a few pages
            self.assertLess(os_kib * 1024 - rank["peak_rss_bytes"], 4 << 20, rank)

        # The memory accountant's leases: every owner within the 64 MiB budget, the
        # engine's and the readers' shares among them, all leases together never past it.
        for rank in m["per_rank"]:
            leases = rank["memory_leases"]
            self.assertEqual(leases["budget_bytes"], 64 << 20)
            self.assertLessEqual(leases["peak_bytes"], 64 << 20, leases)
            owners = {o["owner"]: o for o in leases["owners"]}
            self.assertEqual(owners["input batches"]["peak_bytes"], 8 << 20, owners)
            self.assertEqual(owners["engine tables"]["asked_bytes"], 32 << 20, owners)
            self.assertGreaterEqual(owners["engine tables"]["leases"], 1, owners)

        with h5py.File(out) as f:
            key = json.loads(f.attrs["metrics"])
        self.assertEqual(key["rows_read"], ROWS)
        self.assertEqual(key["ranks"], 4)

    def test_failed_run_leaves_failed_metrics(self):
        out = f"{self.dir.name}/bad.h5"
        r = pearl("run", "table.aggregate", "--input", f"table={self.glob}:/t", "--by", "nosuchcolumn", "--sum", "v",
                  "--output", out, ranks=2)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(f"{self.dir.name}/bad.metrics.json"))
        with open(f"{self.dir.name}/bad.failed.metrics.json") as f:
            m = json.load(f)
        self.assertEqual(m["exit_status"], 2)
        self.assertIn("nosuchcolumn", m["error"])
        self.assertEqual(m["ranks"], 2)
        self.assertEqual(glob.glob(f"{self.dir.name}/.bad*"), [])  # no temporaries left

    def test_a_metrics_path_in_a_missing_directory_is_refused_before_any_work(self):
        out = f"{self.dir.name}/nodir.h5"
        r = pearl("run", "table.aggregate", "--input", f"table={self.glob}:/t", "--by", "id", "--sum", "v",
                  "--output", out, "--metrics", f"{self.dir.name}/no/such/dir/m.json", ranks=2)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--metrics", r.stderr)
        self.assertIn("does not exist", r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_metrics_that_cannot_be_written_leave_the_committed_output_and_exit_0(self):
        # A directory where the file should go: the commit happened, only the record fails.
        out = f"{self.dir.name}/kept.h5"
        blocked = f"{self.dir.name}/blocked.json"
        os.makedirs(f"{blocked}/inside")
        r = pearl("run", "table.aggregate", "--input", f"table={self.glob}:/t", "--by", "id", "--sum", "v",
                  "--output", out, "--metrics", blocked, ranks=2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("the output is complete, but its run metrics were not written", r.stderr)
        with h5py.File(out) as f:
            self.assertIn("aggregate", f)


if __name__ == "__main__":
    unittest.main()
