#!/usr/bin/python3
"""`pearl submit --dry-run` for every shipped profile against golden scripts
(tests/slurm/golden/<profile>.sh, with the temporary directory and the pearl path as
@DIR@ and @PEARL@), plus what each site needs, checked in the text itself; submit's
refusals (the same message as `pearl run`, exit 2); profile files and user overrides;
the `local` profile actually running. Needs no Slurm cluster (label e2e).

PEARL_UPDATE_GOLDEN=1 rewrites the golden files from the current output."""
import os
import subprocess
import tempfile
import unittest

from pearl_testing import builds_launcher_dir, pearl, read_output
from slurm_testing import aggregate_args, run, write_fixture

HERE = os.path.dirname(os.path.abspath(__file__))
PROFILES = ["local", "slurm", "tianhe2", "tianhe-xingyi", "shenzhen"]
SUBMIT = ["--nodes", "2", "--cpus-per-task", "2", "--time", "00:30:00", "--job-name", "agg"]


class DryRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = os.path.realpath(cls.tmp.name)
        cls.glob = write_fixture(cls.dir)
        # No user profiles from the machine running the tests.
        cls.env = dict(os.environ, XDG_CONFIG_HOME=f"{cls.dir}/config", HOME=cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def submit(self, *args, env=None):
        return run("submit", *args, env=env or self.env, cwd=self.dir)

    def script(self, profile, *extra):
        r = self.submit("--profile", profile, *SUBMIT, *extra, "--dry-run", *aggregate_args(self.glob, f"{self.dir}/out.h5"))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def normalised(self, text):
        pearl = os.path.realpath(os.environ.get("PEARL_BIN", "build/bin/pearl"))
        return text.replace(pearl, "@PEARL@").replace(self.dir, "@DIR@")

    def test_every_profile_matches_its_golden_script(self):
        for profile in PROFILES:
            with self.subTest(profile=profile):
                extra = ["--partition", "work"] if profile == "tianhe2" else []
                text = self.normalised(self.script(profile, *extra))
                golden = os.path.join(HERE, "golden", profile + ".sh")
                if os.environ.get("PEARL_UPDATE_GOLDEN") == "1":
                    with open(golden, "w") as f:
                        f.write(text)
                with open(golden) as f:
                    self.assertEqual(text, f.read(), f"dry run of {profile} differs from {golden}")
                syntax = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
                self.assertEqual(syntax.returncode, 0, syntax.stderr)
                self.assertFalse(os.path.exists(f"{self.dir}/logs"), "a dry run writes nothing")

    def test_site_specifics_are_in_the_scripts(self):
        t = self.script("tianhe2", "--partition", "work")
        self.assertIn("yhbatch", t)
        self.assertIn("for candidate in yhrun srun; do", t)
        self.assertIn("#SBATCH -p work\n", t)
        self.assertIn("#SBATCH --exclusive\n", t)
        self.assertIn("\nsource /WORK/app/toolshs/cnmodule.sh\n", t)
        self.assertIn("export HDF5_USE_FILE_LOCKING=FALSE\n", t)
        self.assertIn("for control in yhcontrol scontrol; do", t)
        x = self.script("tianhe-xingyi", "--partition", "cpu")
        self.assertIn("#SBATCH --exclusive\n", x)
        self.assertIn("for candidate in yhrun srun; do", x)
        s = self.script("slurm")
        for line in ["#SBATCH --nodes=2", "#SBATCH --cpus-per-task=2", "#SBATCH --time=00:30:00",
                     "#SBATCH --job-name=agg", "#SBATCH --requeue", "#SBATCH --signal=B:USR1@300",
                     f"#SBATCH --output={self.dir}/logs/agg-%j.log"]:
            self.assertIn(line + "\n", s)
        self.assertNotIn("--exclusive", s)
        self.assertIn("--threads 2", s)  # cpus per task become pearl's map threads
        self.assertIn("export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-2}", s)
        self.assertIn("#SBATCH --partition=shenzhen\n", self.script("shenzhen"))
        self.assertNotIn("#SBATCH", self.script("local"))

    def test_tianhe2_needs_a_partition(self):
        r = self.submit("--profile", "tianhe2", "--dry-run", *aggregate_args(self.glob, f"{self.dir}/out.h5"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs --partition", r.stderr)

    def test_refusals_are_pearl_runs_own_messages(self):
        out = f"{self.dir}/out.h5"
        cases = {
            "bad option": aggregate_args(self.glob, out) + ["--bogus", "1"],
            "glob matches nothing": aggregate_args(f"{self.dir}/none-*.h5", out),
            "missing column": ["table.aggregate", "--input", f"table={self.glob}:/t", "--by", "nope", "--output", out],
            "unknown job": ["table.agregate", "--output", out],
            "missing output directory": aggregate_args(self.glob, f"{self.dir}/no/such/dir/out.h5"),
        }
        for name, args in cases.items():
            with self.subTest(name):
                by_run = run("run", *args, env=self.env, cwd=self.dir)
                by_submit = self.submit("--profile", "slurm", "--dry-run", *args)
                self.assertEqual(by_run.returncode, 2, by_run.stderr)
                self.assertEqual(by_submit.returncode, 2, by_submit.stderr)
                self.assertEqual(by_submit.stderr, by_run.stderr)
                self.assertEqual(by_submit.stdout, "")
                self.assertFalse(os.path.exists(f"{self.dir}/logs"), "nothing written when refused")

    def test_bad_submit_options_and_profiles(self):
        job = aggregate_args(self.glob, f"{self.dir}/out.h5")
        r = self.submit("--nodez", "2", *job)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown submit option '--nodez'; did you mean '--nodes'?", r.stderr)
        r = self.submit("--profile", "tianhe3", *job)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown profile 'tianhe3'; did you mean 'tianhe2'?", r.stderr)
        for bad, message in [("partiton = x\n", "2: unknown key 'partiton'; did you mean 'partition'?"),
                             ("exclusive = maybe\n", "2: exclusive = 'maybe': expected true or false"),
                             ("time = soon\n", "2: time = 'soon': expected a Slurm time limit"),
                             ("cores-per-node = -4\n", "2: cores-per-node = '-4': expected a whole number"),
                             ("just words\n", "2: expected 'key = value'")]:
            with self.subTest(bad=bad):
                path = f"{self.dir}/bad-profile"
                with open(path, "w") as f:
                    f.write("# a user profile\n" + bad)
                r = self.submit("--profile", path, "--dry-run", *job)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(f"{path}:{message}", r.stderr)
        for bad in [["--time", "tomorrow"], ["--nodes", "0"], ["--job-name", "a b"]]:
            with self.subTest(bad=bad):
                r = self.submit(*bad, "--dry-run", *job)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(bad[0], r.stderr)

    def test_a_user_profile_overrides_fields_and_says_where_they_came_from(self):
        user = f"{self.dir}/config/pearl/profiles"
        os.makedirs(user, exist_ok=True)
        with open(f"{user}/tianhe2", "w") as f:
            f.write("# mine, over the shipped one\nbase = tianhe2\npartition = bigdata\ntime = 02:00:00\n")
        t = self.script("tianhe2")
        self.assertIn("#SBATCH -p bigdata\n", t)
        self.assertIn("source /WORK/app/toolshs/cnmodule.sh", t)  # the rest from the shipped profile
        listing = run("profiles", "tianhe2", env=self.env)
        self.assertEqual(listing.returncode, 0, listing.stderr)
        lines = {l.split()[0]: l for l in listing.stdout.splitlines() if l.startswith("  ")}
        self.assertIn(f"{user}/tianhe2:3", lines["partition"])
        self.assertIn("share/pearl/profiles/tianhe2:", lines["submit"])
        every = run("profiles", env=self.env)
        self.assertEqual(every.returncode, 0, every.stderr)
        self.assertIn(f"from {user}/tianhe2", every.stdout)
        for p in PROFILES:
            self.assertIn(f"  {p} ", every.stdout)
        os.remove(f"{user}/tianhe2")

    def test_the_local_profile_runs_the_script_at_once(self):
        out = f"{self.dir}/local.h5"
        # The script runs the first `mpirun` on PATH: the launcher of the MPI pearl was built with.
        env = dict(self.env, PATH=builds_launcher_dir(self.dir) + os.pathsep + os.environ["PATH"])
        r = self.submit("--profile", "local", "--nodes", "1", "--ntasks-per-node", "2", "--wait",
                        "--log-dir", f"{self.dir}/local-logs", *aggregate_args(self.glob, out), env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"job local-\S+ COMPLETED, exit code 0; log: \S+\.log")
        log = r.stdout.split("log: ")[-1].strip()
        with open(log) as f:
            self.assertIn("pearl exited with 0: success", f.read())
        ref = f"{self.dir}/local-ref.h5"
        self.assertEqual(pearl("run", *aggregate_args(self.glob, ref), ranks=2).returncode, 0)
        for table in ["aggregate"]:
            got, _ = read_output(out, table)
            want, _ = read_output(ref, table)
            self.assertTrue(got.equals(want))


if __name__ == "__main__":
    unittest.main(verbosity=2)
