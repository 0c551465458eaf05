#!/usr/bin/python3
"""A batch job whose work outlasts its time limit (3 minutes) on the local Slurm cluster:
Slurm warns the batch script (SIGUSR1, 60 s ahead), the script passes it to pearl, pearl
checkpoints and exits 75, the script requeues the job, and the requeued run resumes
from the checkpoint and writes output identical, column by column, to an uninterrupted
run; its log says what it skipped. Label slurm.

The work is made long with the checkpoint's test hold (PEARL_TEST_HOLD_AFTER_CHECKPOINT:
each save is followed by a pause that a stop request ends); a setup line of the test's
profile drops it on the requeued run, so the resumed run is quick."""
import os
import re
import tempfile
import unittest

import h5py
import numpy as np

from pearl_testing import pearl
from slurm_testing import queue, run, slurm_env

HOLD = "PEARL_TEST_HOLD_AFTER_CHECKPOINT"


def assert_same_tables(test, got_path, want_path):
    with h5py.File(got_path, "r") as got, h5py.File(want_path, "r") as want:
        names = []
        want.visit(names.append)
        test.assertTrue(names)
        for name in names:
            if isinstance(want[name], h5py.Dataset):
                a, b = got[name][()], want[name][()]
                test.assertEqual(a.dtype, b.dtype, name)
                nan = a.dtype.kind == "f"  # NaN (no baseline yet) equals NaN
                test.assertTrue(np.array_equal(a, b, equal_nan=nan), f"{name} differs")


class TimeLimit(unittest.TestCase):
    def test_warned_checkpointed_requeued_and_resumed(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.realpath(tmp)
            g = pearl("run", "data.generate", "--domain", "health", "--rows", "20000", "--shards", "3", "--seed", "17",
                      "--out-dir", d, ranks=2, timeout=300)
            self.assertEqual(g.returncode, 0, g.stderr)
            job = ["health.outbreak", "--input", f"cases={d}/cases-*.h5", "--memory", "4MiB"]
            ref = pearl("run", *job, "--output", f"{d}/ref.h5", ranks=2, timeout=300)
            self.assertEqual(ref.returncode, 0, ref.stderr)

            profile = f"{d}/short-warning"
            with open(profile, "w") as f:
                f.write("base = slurm\n"
                        "signal-seconds = 60\n"
                        f'setup = if [ "${{SLURM_RESTART_COUNT:-0}}" -gt 0 ]; then unset {HOLD}; fi\n')
            out = f"{d}/out.h5"
            r = run("submit", "--profile", profile, "--nodes", "2", "--time", "3", "--wait", *job, "--output", out,
                    "--checkpoint-every", "0", env=slurm_env({HOLD: "600"}), cwd=d, timeout=400)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            m = re.search(r"job (\d+) COMPLETED, exit code 0, requeued 1 times; log: (\S+)", r.stdout)
            self.assertIsNotNone(m, r.stdout)
            with open(m.group(2)) as f:
                log = f.read()
            for line in ["got SIGUSR1", "pearl exited with 75: checkpointed before the time limit",
                         f"requeueing job {m.group(1)} (requeue 1 of 3)", "run 2 of at most 4",
                         "pearl exited with 0: success"]:
                self.assertIn(line, log)
            self.assertRegex(log, r"resume: \d+ operations restored")  # what the resumed run skipped
            assert_same_tables(self, out, f"{d}/ref.h5")
            self.assertFalse(os.path.exists(out + ".checkpoint"), "checkpoint removed on success")
            self.assertEqual(queue(d), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
