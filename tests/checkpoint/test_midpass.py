"""Checkpoints in the middle of a pass (docs/reliability.md, "What a checkpoint holds"): a
single-pass job stopped by SIGTERM, or SIGKILLed after a periodic save, part-way through its
first pass resumes with --resume from where the pass stood, reads none of the batches it had
mapped (the run metrics' rows_read), and writes output identical, byte for byte in every
column (floating-point sums included), to an uninterrupted run at the same rank count. A map
that keeps state across batches and saves it itself (table.aggregate's dense arrays, the
health jobs' counts, the rows social.compliance and social.anomalies keep on their in-memory
paths) resumes mid-pass the same way."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import numpy as np
import pandas as pd

from checkpoint_testlib import assert_same_output, kill_all, rank_pids
from pearl_testing import pearl, pearl_command, write_columnar

HOLD = "PEARL_TEST_HOLD_AFTER_PASS_SAVE"
HOLD_OPERATION = "PEARL_TEST_HOLD_PASS_OPERATION"
# Small batches (--memory: a batch is an eighth of it), so that a pass has many meetings.
MEMORY = ["--memory", "2MiB"]
JOBS = {
    # by a string key: the sparse path, through the engine's combine tables
    "aggregate-sparse": ["table.aggregate", "--by", "disease,sex", "--sum", "age_years", "--mean", "age_years",
                         "--input", "table={d}/cases-*.h5:/cases"],
    # by small integers: the dense arrays, state across batches that the map saves itself
    "aggregate-dense": ["table.aggregate", "--by", "sex,age_years", "--mean", "onset_day",
                        "--input", "table={d}/cases-*.h5:/cases"],
    # maps that count cases in their own table across batches and save it themselves
    "incidence": ["health.incidence", "--input", "cases={d}/cases-*.h5", "--input", "population={d}/population-*.h5"],
    "outbreak": ["health.outbreak", "--input", "cases={d}/cases-*.h5"],
    # the same on shards where rank 0's share at 2 ranks is one batch, with 2 map threads: a
    # wave takes two batches, so rank 0 finds its input done in its first (test_a_rank_out...)
    "aggregate-dense-uneven": ["table.aggregate", "--by", "sex,age_years", "--mean", "onset_day", "--threads", "2",
                               "--input", "table={u}/cases-*.h5:/cases"],
    # in-memory paths whose maps keep the rows' cells, money and distinct pairs (compliance:
    # several reads at 1 rank, one at 3) or the claims themselves (anomalies) in the pass
    "compliance": ["social.compliance", "--input", "contributions={s}/contributions-*.h5"],
    "anomalies": ["social.anomalies", "--input", "claims={s}/claims-*.h5", "--input", "deaths={s}/deaths-*.h5",
                  "--input", "contributions={s}/contributions-*.h5"],
}
# The operation whose pass a test stops, where it is not the first: health.incidence sums
# the population (operation 0) before it counts the cases; social.anomalies reduces the
# deaths (operation 0) before it reads the claims.
STOP_IN_OPERATION = {"incidence": 1, "anomalies": 1}
# What the resumed run's --verbose log shows when it took the path the test is about.
PATH_SHOWN = {"compliance": "compliance: read;", "anomalies": "screened in memory, from one read of each table"}


def job_args(name, dirs):
    """The job's arguments with its data directories ({d}: health, {s}: social, {u}: uneven)."""
    args = JOBS[name]
    for key, d in dirs.items():
        args = [a.replace(key, d) for a in args]
    return args + MEMORY


def passes_saved(out):
    try:
        with open(out + ".checkpoint/manifest") as f:
            return [line.split() for line in f if line.startswith("pass ")]
    except FileNotFoundError:
        return []


def metrics(out):
    return os.path.splitext(out)[0] + ".metrics.json"


def rows_read(out):
    """Rows every rank read from the inputs, by the run's metrics (OUT.metrics.json)."""
    with open(metrics(out)) as f:
        doc = json.load(f)
    return sum(rank["rows_read"] for stage in doc["stages"] for rank in stage["per_rank"])


class MidPass(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.data = os.path.join(cls.tmp.name, "data")
        r = pearl("run", "data.generate", "--domain", "health", "--rows", "60000", "--shards", "3", "--seed", "23",
                  "--out-dir", cls.data, ranks=2, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        # Social data in six small shards (one empty), so that every rank maps two or more
        # batches at 3 ranks within --memory.
        cls.social = os.path.join(cls.tmp.name, "social")
        r = pearl("run", "data.generate", "--domain", "social", "--rows", "6000", "--shards", "6", "--seed", "23",
                  "--out-dir", cls.social, ranks=2, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        # Cases in one shard of 5000 rows (one batch: rank 0's share at 2 ranks) and five of
        # 1000 (rank 1's five batches, more than its first wave takes).
        cls.uneven = os.path.join(cls.tmp.name, "uneven")
        os.makedirs(cls.uneven)
        rng = np.random.default_rng(29)
        for k, n in enumerate([5000] + [1000] * 5):
            part = pd.DataFrame({"sex": rng.integers(1, 3, n).astype(np.uint8),
                                 "age_years": rng.integers(0, 100, n).astype(np.uint8),
                                 "onset_day": rng.integers(19000, 19400, n).astype(np.int32)})
            write_columnar(os.path.join(cls.uneven, f"cases-{k:04d}.h5"), part, "cases")
        cls.dirs = {"{d}": cls.data, "{s}": cls.social, "{u}": cls.uneven}
        cls.reference = {}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def out(self, name):
        path = os.path.join(self.tmp.name, name)
        for p in (path, path + ".checkpoint", metrics(path)):
            shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else (os.path.exists(p) and os.remove(p))
        return path

    def uninterrupted(self, job, ranks):
        """The output and rows read of an uninterrupted run of `job` at `ranks` ranks."""
        if (job, ranks) not in self.reference:
            out = self.out(f"reference-{job}-{ranks}.h5")
            r = pearl("run", *job_args(job, self.dirs), "--output", out, ranks=ranks, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.reference[(job, ranks)] = (out, rows_read(out))
        return self.reference[(job, ranks)]

    def start(self, job, out, ranks, every="0", hold=60):
        env = dict(os.environ, **{HOLD: str(hold), HOLD_OPERATION: str(STOP_IN_OPERATION.get(job, 0))})
        cmd = pearl_command("run", *job_args(job, self.dirs), "--output", out, "--checkpoint-every", every,
                            "--verbose", ranks=ranks)
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    def wait_for_pass(self, p, out, op=0, timeout=120):
        """Until the run has saved a pass of operation `op` (and holds there)."""
        def saved():
            return [line for line in passes_saved(out) if line[1] == str(op)]
        deadline = time.time() + timeout
        while time.time() < deadline and not saved():
            if p.poll() is not None:
                self.fail("the run ended before it saved a pass: " + p.communicate()[1])
            time.sleep(0.05)
        self.assertTrue(saved(), f"no pass of operation {op} saved after {timeout} s")

    def resume_and_compare(self, job, out, ranks):
        want, want_rows = self.uninterrupted(job, ranks)
        r = pearl("run", *job_args(job, self.dirs), "--output", out, "--checkpoint-every", "0", "--resume",
                  "--verbose", ranks=ranks, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        if job in PATH_SHOWN:
            self.assertIn(PATH_SHOWN[job], r.stderr)
        assert_same_output(self, out, want)
        self.assertFalse(os.path.exists(out + ".checkpoint"), "removed once the output is written")
        return r.stderr, want_rows

    def assert_resumed_mid_pass(self, job, out, ranks):
        err, want_rows = self.resume_and_compare(job, out, ranks)
        skipped = re.findall(r"resume: operation \d+ \(\w+\) continues its pass from the checkpoint: \d+ input batches "
                             r"on rank 0 \((\d+) on all ranks\) not read again", err)
        self.assertTrue(skipped and sum(map(int, skipped)) > 0, err)
        # The batches skipped were not read: fewer rows than an uninterrupted run reads.
        self.assertLess(rows_read(out), want_rows)

    def stop_mid_pass(self, job, out, ranks, check_save=None):
        """Runs `job` until it saves a pass of the operation it is stopped in (and holds;
        check_save(manifest's pass line) then looks at it), then SIGTERMs every rank; the run
        must stop with 75 and nothing of its pass starting over."""
        p = self.start(job, out, ranks)
        op = STOP_IN_OPERATION.get(job, 0)
        self.wait_for_pass(p, out, op)
        if check_save:
            check_save([line for line in passes_saved(out) if line[1] == str(op)][-1])
        for pid in rank_pids(out):
            os.kill(pid, signal.SIGTERM)  # as Slurm's time limit does: every task
        _, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 75, err)
        self.assertIn("the one in progress where its pass stood", err)
        self.assertNotIn("is saved only once its pass is done", err)  # no pass of the job starts over
        self.assertFalse(os.path.exists(out))

    def test_sigterm_mid_pass_resumes_without_rereading(self):
        # aggregate-dense, incidence, outbreak, compliance and anomalies keep state across
        # batches in their maps (dense arrays, case counts, cells and pairs, claims), which
        # each map saves with the pass itself.
        runs = [(job, ranks) for job in ("aggregate-sparse", "aggregate-dense", "incidence", "compliance", "anomalies")
                for ranks in (1, 2, 3)]
        runs.append(("outbreak", 2))
        for job, ranks in runs:
            with self.subTest(job=job, ranks=ranks):
                out = self.out(f"term-{job}-{ranks}.h5")
                self.stop_mid_pass(job, out, ranks)
                self.assert_resumed_mid_pass(job, out, ranks)

    def test_a_rank_out_of_input_before_the_save(self):
        # At the first meeting rank 0 has mapped its only batch and found its input done: its
        # map threads have finished and handed their dense arrays to the job, and save them
        # from there; rank 1 has mapped two of its five batches and goes on after the resume.
        job, ranks = "aggregate-dense-uneven", 2
        out = self.out("uneven.h5")
        # pass INDEX SAVE KIND PAIR_BYTES BATCHES(rank 0) BATCHES(all ranks)
        self.stop_mid_pass(job, out, ranks, check_save=lambda line: self.assertEqual(line[5:], ["1", "3"], line))
        self.assert_resumed_mid_pass(job, out, ranks)

    def test_sigkill_after_a_periodic_save_resumes_from_it(self):
        job, ranks = "aggregate-sparse", 2
        out = self.out("killed.h5")
        p = self.start(job, out, ranks)
        self.wait_for_pass(p, out)
        kill_all(p)
        self.assertFalse(os.path.exists(out))
        self.assert_resumed_mid_pass(job, out, ranks)


if __name__ == "__main__":
    unittest.main(verbosity=2)
