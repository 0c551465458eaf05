#!/usr/bin/python3
"""Fault injection: each fault ends in no output (or one identical to an uninterrupted
run), nothing left in scratch or next to the output, and a non-zero exit with a clear
message. Run by CTest as `faults` (labels e2e;faults) under the MPI of the build; alone:
PYTHONPATH=tests/support:tests/faults PEARL_BIN=build/bin/pearl /usr/bin/python3 THIS_FILE.

SIGKILL points come from PEARL_TEST_KILL_AT (core/include/pearl/core/detail/fault_point.hpp);
the full file system is a 2 MiB tmpfs (or loop-mounted ext2) and needs root; permission
faults run as the user nobody when run as root."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import h5py
import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults_support import command, nobody, run, small_filesystem, table, write_inputs  # noqa: E402
from pearl_testing import write_compound  # noqa: E402

KILLED = ("signal 9", "Killed", "KILLED")  # how Open MPI's and MPICH's launchers report a SIGKILL


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pearl-faults-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)  # also when setUpClass fails
        os.chmod(cls.tmp, 0o755)  # nobody reads the inputs
        cls.inputs_dir = os.path.join(cls.tmp, "in")
        os.mkdir(cls.inputs_dir)
        os.chmod(cls.inputs_dir, 0o755)
        write_inputs(cls.inputs_dir)
        cls.inputs = os.path.join(cls.inputs_dir, "cases-*.h5")
        cls.baseline = {}
        for ranks in (2, 3):
            out, scratch = cls.fresh_dirs(f"baseline-{ranks}")
            r = run(command(cls.inputs, os.path.join(out, "out.h5"), scratch, ranks))
            assert r.returncode == 0, r.stderr
            cls.baseline[ranks] = table(os.path.join(out, "out.h5"))

    @classmethod
    def fresh_dirs(cls, name):
        out = os.path.join(cls.tmp, name, "out")
        scratch = os.path.join(cls.tmp, name, "scratch")
        os.makedirs(out)
        os.makedirs(scratch)
        return out, scratch

    def assert_clean(self, out_dir, scratch, expect_output):
        names = sorted(os.listdir(out_dir))
        # Run records (docs/user-guide.md, run metrics) are not results: a run that failed
        # cleanly leaves OUT.failed.metrics.json, named so it is never taken for a result.
        records = [n for n in names if n in ("out.metrics.json", "out.failed.metrics.json")]
        results = [n for n in names if n not in records]
        self.assertEqual(results, ["out.h5"] if expect_output else [], "nothing but the output next to it")
        if not expect_output:
            self.assertNotIn("out.metrics.json", records, "a run without output has no success record")
        if "out.failed.metrics.json" in records:
            with open(os.path.join(out_dir, "out.failed.metrics.json")) as f:
                self.assertNotEqual(json.load(f)["exit_status"], 0, "the failed run's record says it failed")
        self.assertEqual(os.listdir(scratch), [], "nothing left in scratch")

    def assert_same_as_uninterrupted(self, path, ranks):
        got, want = table(path), self.baseline[ranks]
        self.assertEqual(got["case_id"].tolist(), want["case_id"].tolist())
        self.assertEqual(got["count"].tolist(), want["count"].tolist())
        np.testing.assert_array_equal(got["sum_weight"].to_numpy(), want["sum_weight"].to_numpy())

    def one_error_line(self, r, *fragments):
        lines = [l for l in r.stderr.splitlines() if l.startswith("pearl: error")]
        self.assertEqual(len(lines), 1, r.stderr)
        for f in fragments:
            self.assertIn(f, lines[0])
        return lines[0]

    # --- a rank killed ---------------------------------------------------------------------

    def killed_then_rerun(self, point, ranks=2, rank=1):
        """SIGKILL of `rank` at `point`; then the same command again, uninterrupted: it must
        remove what the dead run left (and say so) and write the uninterrupted result."""
        out_dir, scratch = self.fresh_dirs(f"kill-{point}-{ranks}-{rank}")
        out = os.path.join(out_dir, "out.h5")
        env = dict(os.environ, PEARL_TEST_KILL_AT=f"{point}:{rank}:2" if point == "map" else f"{point}:{rank}")
        r = run(command(self.inputs, out, scratch, ranks), env=env)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertTrue(any(k in r.stdout + r.stderr for k in KILLED), r.stdout + r.stderr)
        self.assertFalse(os.path.exists(out), "no output from a killed run")
        left = os.listdir(out_dir) + os.listdir(scratch)
        r2 = run(command(self.inputs, out, scratch, ranks, ["--verbose"]))
        self.assertEqual(r2.returncode, 0, r2.stderr)
        for name in left:
            self.assertIn(name, r2.stderr, "the next run says what it removed")
        self.assert_same_as_uninterrupted(out, ranks)
        self.assert_clean(out_dir, scratch, expect_output=True)

    def test_sigkill_mid_map(self):
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                self.killed_then_rerun("map", ranks)

    def test_sigkill_mid_shuffle(self):
        self.killed_then_rerun("shuffle")

    def test_sigkill_mid_write(self):
        self.killed_then_rerun("write", rank=1)

    def test_stale_temporaries_of_rank_0_killed_mid_write(self):
        self.killed_then_rerun("write", rank=0)

    def test_sigterm_to_the_launcher(self):
        out_dir, scratch = self.fresh_dirs("sigterm")
        out = os.path.join(out_dir, "out.h5")
        env = dict(os.environ, PEARL_TEST_HOLD_BEFORE_COMMIT="30")
        p = subprocess.Popen(command(self.inputs, out, scratch), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        # The temporary is reserved (empty) before the job's passes and written after them:
        # a SIGTERM before it has bytes would stop a pass, which rightly leaves a checkpoint.
        def written():
            return [n for n in os.listdir(out_dir)
                    if n.startswith(".out.h5.tmp") and os.path.getsize(os.path.join(out_dir, n)) > 0]
        deadline = time.time() + 120
        while time.time() < deadline and not written():
            time.sleep(0.1)
        self.assertTrue(written(), "the write had started")
        p.send_signal(signal.SIGTERM)  # to the launcher only, as a batch system or a user does
        _, err = p.communicate(timeout=60)
        self.assertNotEqual(p.returncode, 0, err)
        time.sleep(35)  # past the hold: a rank that ignored the signal would commit now
        self.assertFalse(os.path.exists(out), "no output after SIGTERM: " + err)
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        self.assertNotIn(out, ps, "every rank has stopped")
        self.assert_clean(out_dir, scratch, expect_output=False)

    # --- full file systems -----------------------------------------------------------------

    def full_filesystem_run(self, full):
        """A run whose scratch (full="scratch") or output folder (full="output") is a 2 MiB
        file system: one clear error, no output, no temporary, no scratch left."""
        with small_filesystem() as (fs, how):
            if fs is None:
                self.skipTest(how)
            out_dir, scratch = self.fresh_dirs("full-" + full)
            if full == "scratch":
                scratch = fs
            else:
                out_dir = fs
            r = run(command(self.inputs, os.path.join(out_dir, "out.h5"), scratch))
            self.assertNotEqual(r.returncode, 0, r.stderr)
            self.one_error_line(r, "No space left on device")
            self.assert_clean(out_dir, scratch, expect_output=False)

    def test_full_scratch(self):
        self.full_filesystem_run("scratch")

    def test_full_output_file_system(self):
        self.full_filesystem_run("output")

    # --- bad files and permissions ---------------------------------------------------------

    def bad_input_run(self, name, make, fragments, as_user=None):
        """A copy of the inputs with one shard spoiled by `make(path)`: exit 2, one message
        naming the shard, no output, nothing left."""
        d = os.path.join(self.tmp, name)
        os.makedirs(d)
        os.chmod(d, 0o777)
        for f in sorted(os.listdir(self.inputs_dir)):
            shutil.copy(os.path.join(self.inputs_dir, f), d)
            os.chmod(os.path.join(d, f), 0o644)
        make(os.path.join(d, "cases-1.h5"))
        out_dir, scratch = self.fresh_dirs(name + "-run")
        os.chmod(out_dir, 0o777)
        os.chmod(scratch, 0o777)
        for ranks in (1, 2, 3):
            with self.subTest(ranks=ranks):
                r = run(command(os.path.join(d, "cases-*.h5"), os.path.join(out_dir, "out.h5"), scratch, ranks),
                        as_user=as_user)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.one_error_line(r, "cases-1.h5", *fragments)
                self.assert_clean(out_dir, scratch, expect_output=False)

    def test_unreadable_shard(self):
        self.bad_input_run("unreadable", lambda p: os.chmod(p, 0o000), ["Permission denied"], as_user=nobody())

    def test_shard_truncated_mid_chunk(self):
        def truncate(path):
            with h5py.File(path, "r") as f:
                ds = f["cases/weight"]
                last = ds.id.get_chunk_info(ds.id.get_num_chunks() - 1)
            with open(path, "r+b") as f:
                f.truncate(last.byte_offset + last.size // 2)
        self.bad_input_run("truncated", truncate, [])

    def test_corrupt_compound_type(self):
        def corrupt(path):
            rng = np.random.default_rng(9)
            df = pd.DataFrame({"case_id": np.arange(100, dtype=np.uint64), "weight": rng.normal(size=100)})
            write_compound(path, df, "cases")
            raw = bytearray(open(path, "rb").read())
            # Compound datatype message, version 1: member name padded to 8 bytes, 32 bytes of
            # offset and array dimensions, then the member's own type: class in the low 4 bits.
            at = raw.find(b"weight\x00\x00") + 8 + 32
            self.assertEqual(raw[at] & 0x0F, 1, "the member type is where the layout says (float class)")
            raw[at] = (raw[at] & 0xF0) | 0x0F  # class 15: no such HDF5 type class
            open(path, "wb").write(bytes(raw))
        self.bad_input_run("compound", corrupt, [])

    def test_output_in_read_only_directory(self):
        as_user = nobody()
        d = os.path.join(self.tmp, "readonly")
        os.makedirs(d)
        os.chmod(d, 0o555 if as_user else 0o500)
        scratch = os.path.join(self.tmp, "readonly-scratch")
        os.makedirs(scratch)
        os.chmod(scratch, 0o777)
        r = run(command(self.inputs, os.path.join(d, "out.h5"), scratch), as_user=as_user)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.one_error_line(r, d)
        self.assertEqual(os.listdir(d), [])
        self.assertEqual(os.listdir(scratch), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
