#!/usr/bin/python3
"""`pearl submit` on a real Slurm cluster (scripts/slurm-local up): the generic `slurm`
profile with no other setting; two nodes give the output of the same job under mpirun;
partition shenzhen; refusals queue nothing (no job from the test's directory: in CI the
queue is empty, here other work may share the cluster). Label slurm."""
import os
import re
import tempfile
import unittest

from pearl_testing import pearl, read_output
from slurm_testing import aggregate_args, queue, run, slurm_env, write_fixture


class SubmitOnCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = os.path.realpath(cls.tmp.name)
        cls.glob = write_fixture(cls.dir)
        cls.env = slurm_env({"XDG_CONFIG_HOME": f"{cls.dir}/config"})

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def submit(self, *args):
        return run("submit", *args, env=self.env, cwd=self.dir, timeout=240)

    def finished(self, r, nodes):
        """The job of a `--wait` submit: exit 0, its log says where it ran and that pearl succeeded."""
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r"job (\d+) COMPLETED, exit code 0; log: (\S+)", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        with open(m.group(2)) as f:
            log = f.read()
        self.assertIn(f"job {m.group(1)} on {nodes}", log)
        self.assertIn("pearl exited with 0: success", log)
        return log

    def test_two_nodes_match_mpirun(self):
        out = f"{self.dir}/two-nodes.h5"
        r = self.submit("--wait", "--nodes", "2", *aggregate_args(self.glob, out))  # the default profile: slurm
        self.finished(r, "gz[1-2]")
        ref = f"{self.dir}/mpirun.h5"
        m = pearl("run", *aggregate_args(self.glob, ref), ranks=2)
        self.assertEqual(m.returncode, 0, m.stderr)
        got, got_types = read_output(out, "aggregate")
        want, want_types = read_output(ref, "aggregate")
        self.assertEqual(got_types, want_types)
        self.assertTrue(got.equals(want), f"{got}\n!=\n{want}")
        self.assertEqual(queue(self.dir), [])

    def test_partition_shenzhen(self):
        out = f"{self.dir}/shenzhen.h5"
        r = self.submit("--profile", "shenzhen", "--wait", *aggregate_args(self.glob, out))
        self.finished(r, "sz1")
        self.assertTrue(os.path.exists(out))

    def test_refusals_queue_nothing(self):
        out = f"{self.dir}/refused.h5"
        cases = {
            "bad option": ["--profile", "slurm", *aggregate_args(self.glob, out), "--bogus", "1"],
            "glob matches nothing": ["--profile", "slurm", *aggregate_args(f"{self.dir}/none-*.h5", out)],
            "unknown profile": ["--profile", "nowhere", *aggregate_args(self.glob, out)],
        }
        for name, args in cases.items():
            with self.subTest(name):
                r = self.submit(*args)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertRegex(r.stderr, r"^pearl: error: ")
                self.assertEqual(r.stdout, "")
                self.assertEqual(queue(self.dir), [], "nothing queued")

    def test_a_failing_job_gives_its_exit_code(self):
        # Passes every check at submission, fails in the batch job (its inputs are gone by
        # then): the job's exit code, 2, comes back from --wait.
        d = f"{self.dir}/vanishing"
        os.makedirs(d)
        glob = write_fixture(d, shards=2)
        args = ["--wait", *aggregate_args(glob, f"{self.dir}/vanish.h5")]
        # A profile's setup lines run first in the batch job: this one removes the inputs.
        with open(f"{self.dir}/vanish-profile", "w") as f:
            f.write(f"base = slurm\nsetup = rm -f {d}/t-*.h5\n")
        r = self.submit("--profile", f"{self.dir}/vanish-profile", *args)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        m = re.search(r"job \d+ FAILED, exit code 2; log: (\S+)", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        with open(m.group(1)) as f:
            log = f.read()
        self.assertIn("no files match", log)
        self.assertIn("pearl exited with 2: usage or input error", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
