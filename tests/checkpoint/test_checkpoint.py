"""Checkpoint and resume (docs/user-guide.md, "Time limits and checkpoints"): a run killed
with SIGKILL on every rank after some operations were saved resumes with --resume, skips
what the checkpoint holds (its log says how much) and writes output identical, byte for
byte in every column, to an uninterrupted run; a checkpoint of another run is refused
(exit 2, naming what changed); --resume without a checkpoint starts over and says so."""
import os
import re
import shutil
import signal
import tempfile
import time
import unittest

from checkpoint_testlib import (JOBS, assert_same_output, generate, kill_all, rank_pids, saved_operations,
                                start_held, wait_for_saved)
from pearl_testing import pearl

RANKS = 2


class CheckpointTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.data = os.path.join(cls.tmp.name, "data")
        generate(cls.data)
        cls.reference = {}
        for job, args in JOBS.items():
            out = os.path.join(cls.tmp.name, f"reference-{job}.h5")
            r = pearl("run", job, *args(cls.data), "--output", out, ranks=RANKS, timeout=300)
            assert r.returncode == 0, r.stderr
            assert not os.path.exists(out + ".checkpoint"), "a run that succeeded leaves no checkpoint"
            cls.reference[job] = out

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def out(self, name):
        path = os.path.join(self.tmp.name, name)
        for p in (path, path + ".checkpoint"):
            shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else (os.path.exists(p) and os.remove(p))
        return path

    def killed_after(self, job, out, operations, ranks=RANKS):
        """Runs `job` until its checkpoint holds `operations` operations, then SIGKILLs it all."""
        p = start_held([job, *JOBS[job](self.data)], out, ranks)
        wait_for_saved(p, out, operations)
        kill_all(p)
        self.assertFalse(os.path.exists(out), "no output after SIGKILL")
        self.assertGreaterEqual(len(saved_operations(out)), operations)


class ResumeAfterSigkill(CheckpointTest):
    def test_every_job_resumes_to_the_uninterrupted_output(self):
        # table.aggregate and health.incidence: killed after their first operation; the
        # four-operation health.outbreak after its second.
        for job, operations in (("table.aggregate", 1), ("health.outbreak", 2), ("health.incidence", 1)):
            with self.subTest(job=job):
                out = self.out(f"killed-{job}.h5")
                self.killed_after(job, out, operations)
                saved = saved_operations(out)
                r = pearl("run", job, *JOBS[job](self.data), "--output", out, "--checkpoint-every", "0", "--resume",
                          ranks=RANKS, timeout=300)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("--resume: continuing from the checkpoint", r.stderr)
                restored = re.findall(r"resume: operation (\d+) \(\w+\) restored from the checkpoint: (\d+) input batches",
                                      r.stderr)
                self.assertEqual([int(i) for i, _ in restored], saved, r.stderr)
                self.assertGreater(sum(int(b) for _, b in restored), 0, "the restored operations had read input")
                self.assertRegex(r.stderr, rf"resume: {len(saved)} operations restored from the checkpoint")
                assert_same_output(self, out, self.reference[job])
                self.assertFalse(os.path.exists(out + ".checkpoint"), "removed once the output is written")

    def test_sigkill_of_one_rank_ends_the_run_and_resume_continues(self):
        # The launcher ends the other ranks (they must not wait for the dead one): well
        # before the 60 s the survivors are held for after their save.
        job = "health.outbreak"
        out = self.out("one-killed.h5")
        p = start_held([job, *JOBS[job](self.data)], out, RANKS)
        wait_for_saved(p, out, 1)
        started = time.time()
        os.kill(rank_pids(out)[-1], signal.SIGKILL)
        p.communicate(timeout=120)
        self.assertNotEqual(p.returncode, 0)
        self.assertLess(time.time() - started, 45, "the other ranks were not held up by the dead one")
        self.assertEqual(rank_pids(out), [])
        self.assertFalse(os.path.exists(out))
        r = pearl("run", job, *JOBS[job](self.data), "--output", out, "--resume", ranks=RANKS, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("resume: operation 0 (reduce_by_key) restored", r.stderr)
        assert_same_output(self, out, self.reference[job])

    def test_resume_without_a_checkpoint_starts_over_and_says_so(self):
        job = "health.incidence"
        out = self.out("fresh.h5")
        r = pearl("run", job, *JOBS[job](self.data), "--output", out, "--resume", ranks=RANKS, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--resume: no checkpoint in " + out + ".checkpoint; starting over", r.stderr)
        assert_same_output(self, out, self.reference[job])

    def test_a_run_without_resume_replaces_an_earlier_checkpoint(self):
        job = "health.incidence"
        out = self.out("restart.h5")
        self.killed_after(job, out, 1)
        r = pearl("run", job, *JOBS[job](self.data), "--output", out, ranks=RANKS, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("checkpoint in " + out + ".checkpoint was removed; starting over", r.stderr)
        self.assertNotIn("restored", r.stderr)
        assert_same_output(self, out, self.reference[job])


class RefusedCheckpoints(CheckpointTest):
    """A checkpoint records the job, its options, its inputs and the rank count: resuming
    with any of them changed is exit 2 naming what changed, and the checkpoint stays."""

    def test_changed_options_inputs_or_ranks_are_refused(self):
        job = "health.incidence"
        out = self.out("refused.h5")
        self.killed_after(job, out, 1)
        args = JOBS[job](self.data)
        cases = [
            ("option", [*args, "--per", "1000"], RANKS, "option --per: '100000' then, '1000' now"),
            ("ranks", args, RANKS + 1, f"ranks: '{RANKS}' then, '{RANKS + 1}' now"),
            ("threads", [*args, "--threads", "2"], RANKS, "threads: '1' then, '2' now"),
            ("job", JOBS["table.aggregate"](self.data), RANKS, "job: 'health.incidence' then, 'table.aggregate' now"),
        ]
        for what, run_args, ranks, message in cases:
            with self.subTest(changed=what):
                name = "table.aggregate" if what == "job" else job
                r = pearl("run", name, *run_args, "--output", out, "--resume", ranks=ranks, timeout=300)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertIn("was written by another run", r.stderr)
                self.assertFalse(os.path.exists(out))
                self.assertTrue(saved_operations(out), "a refused resume keeps the checkpoint")
        # An input shard rewritten since (its modification time changed).
        shard = sorted(p for p in os.listdir(self.data) if p.startswith("population-"))[0]
        path = os.path.join(self.data, shard)
        st = os.stat(path)
        try:
            os.utime(path, (st.st_atime, st.st_mtime + 100))
            r = pearl("run", job, *args, "--output", out, "--resume", ranks=RANKS, timeout=300)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertRegex(r.stderr, rf"input population \S*{shard}: '\d+ bytes, mtime \d+' then, '\d+ bytes, mtime \d+' now")
        finally:
            os.utime(path, (st.st_atime, st.st_mtime))
        # Unchanged, the same checkpoint still resumes.
        r = pearl("run", job, *args, "--output", out, "--resume", ranks=RANKS, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        assert_same_output(self, out, self.reference[job])


if __name__ == "__main__":
    unittest.main(verbosity=2)
