#!/usr/bin/python3
"""End-to-end tests of the `pearl` program: CLI behaviour, exit codes, failure handling
under mpirun, identical results across rank and thread counts, and the memory budget.

Run by CTest with PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS in the environment."""
import os
import re
import shlex
import subprocess
import tempfile
import unittest

PEARL = os.environ.get("PEARL_BIN", "build/bin/pearl")
MPIEXEC = os.environ.get("MPIEXEC", "mpiexec")
MPIEXEC_FLAGS = shlex.split(os.environ.get("MPIEXEC_FLAGS", ""))


def pearl(*args, ranks=None, timeout=120):
    cmd = [PEARL, *args]
    if ranks is not None:
        cmd = [MPIEXEC, "-n", str(ranks), *MPIEXEC_FLAGS, *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def table_of(stdout):
    """The demo's printed rows (everything after the header line)."""
    lines = stdout.splitlines()
    header = next(i for i, l in enumerate(lines) if l.split()[:2] == ["key", "count"])
    return [l.split() for l in lines[header + 1:] if l.strip()]


class Cli(unittest.TestCase):
    def test_version_help_and_jobs(self):
        r = pearl("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^pearl \d+\.\d+\.\d+")
        r = pearl("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("exit codes", r.stdout)
        r = pearl("jobs")
        self.assertEqual(r.returncode, 0)
        self.assertIn("demo.sum", r.stdout)
        r = pearl("run", "demo.sum", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--rows", r.stdout)
        self.assertIn("--memory", r.stdout)

    def test_usage_errors_exit_2_with_one_clear_message(self):
        for args, expected in [
            (["run", "demo.sum", "--memroy", "1GiB"], "did you mean '--memory'"),
            (["run", "demo.sum", "--rows"], "rows"),
            (["run", "demo.sum", "--rows", "many"], "rows"),
            (["run", "demo.sum", "stray"], "unexpected argument 'stray'"),
            (["run", "demo.sum", "--memory", "lots"], "invalid size 'lots'"),
            (["run", "demo.sum", "--threads", "0"], "--threads"),
            (["run", "demo.sum", "--scratch", "/nonexistent/dir", "--memory", "1MiB", "--keys", "1000000",
              "--rows", "1000000"], "/nonexistent/dir"),
            (["run", "demo.smu"], "did you mean 'demo.sum'"),
            (["rnu"], "did you mean 'run'"),
        ]:
            with self.subTest(args=args):
                r = pearl(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(expected, r.stderr)
                self.assertEqual(len([l for l in r.stderr.splitlines() if l.startswith("pearl: error")]), 1, r.stderr)

    def test_config_file_sections(self):
        with tempfile.NamedTemporaryFile("w", suffix=".ini") as cfg:
            cfg.write("memory = 256MiB\n[demo.sum]\nrows = 1234\nkeys = 7\n[other.job]\nwhatever = 1\n")
            cfg.flush()
            r = pearl("run", "demo.sum", "--config", cfg.name)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("1234 events, 7 keys", r.stdout)
            r = pearl("run", "demo.sum", "--config", cfg.name, "--rows", "99")  # the command line wins
            self.assertIn("99 events", r.stdout)
        with tempfile.NamedTemporaryFile("w", suffix=".ini") as cfg:
            cfg.write("[demo.sum]\nrwos = 5\n")
            cfg.flush()
            r = pearl("run", "demo.sum", "--config", cfg.name)
            self.assertEqual(r.returncode, 2)
            self.assertIn(cfg.name, r.stderr)
            self.assertIn("did you mean '--rows'", r.stderr)


class Distributed(unittest.TestCase):
    def test_identical_results_across_ranks_and_threads(self):
        args = ["run", "demo.sum", "--rows", "300000", "--keys", "5000", "--show", "40"]
        reference = pearl(*args)
        self.assertEqual(reference.returncode, 0, reference.stderr)
        expected = table_of(reference.stdout)
        self.assertEqual(len(expected), 40)
        for ranks in (1, 2, 3, 4):
            for threads in ("1", "2"):
                with self.subTest(ranks=ranks, threads=threads):
                    r = pearl(*args, "--threads", threads, ranks=ranks)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(table_of(r.stdout), expected)
                    self.assertIn(f"({ranks} ranks", r.stdout)

    def test_a_rank_that_throws_ends_the_job_with_one_message(self):
        for ranks in (2, 3, 4):
            with self.subTest(ranks=ranks):
                r = pearl("run", "demo.sum", "--rows", "2000000", "--fail-on-rank", str(ranks - 1), ranks=ranks,
                          timeout=60)
                self.assertNotEqual(r.returncode, 0)
                errors = [l for l in r.stderr.splitlines() if l.startswith("pearl: error")]
                self.assertEqual(len(errors), 1, r.stderr)
                self.assertIn(f"rank {ranks - 1}: demo.sum: failure injected", errors[0])

    def test_a_rank_that_throws_outside_any_agreement_ends_the_job_with_one_message(self):
        # The failing rank agrees once, in its error handler; the others learn of it at
        # their next collective. Neither side may agree on it a second time (that hung).
        for ranks in (1, 2, 3, 4):
            for failing in sorted({0, ranks - 1}):
                with self.subTest(ranks=ranks, failing=failing):
                    r = pearl("run", "demo.sum", "--rows", "200000", "--fail-on-rank", str(failing),
                              "--fail-in", "run", ranks=ranks, timeout=60)
                    self.assertEqual(r.returncode, 1, r.stderr)
                    errors = [l for l in r.stderr.splitlines() if l.startswith("pearl: error")]
                    self.assertEqual(len(errors), 1, r.stderr)
                    where = f"rank {failing}: " if failing != 0 else ""
                    self.assertIn(f"pearl: error: {where}demo.sum: failure injected", errors[0])
                    self.assertIn("after the map", errors[0])

    def test_spill_under_a_fifth_of_the_data_keeps_results_and_memory_bound(self):
        # 2M events with ~all-distinct keys: 40-byte pairs, 80 MB shuffled in total.
        rows, budget_mib = 2_000_000, 16  # a fifth of the data is 16 MB
        args = ["run", "demo.sum", "--rows", str(rows), "--keys", str(rows), "--show", "25", "--verbose"]
        reference = pearl(*args, "--memory", "2GiB")
        self.assertEqual(reference.returncode, 0, reference.stderr)
        with tempfile.TemporaryDirectory() as scratch:
            for ranks in (1, 2, 3):
                with self.subTest(ranks=ranks):
                    r = pearl(*args, "--memory", f"{budget_mib}MiB", "--scratch", scratch, ranks=ranks)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(table_of(r.stdout), table_of(reference.stdout))
                    spilled = int(re.search(r"(\d+) runs spilled", r.stderr).group(1))
                    self.assertGreater(spilled, 0, r.stderr)
                    peak = int(re.search(r"peak RSS \(max over ranks\) .* = (\d+) bytes", r.stderr).group(1))
                    limit = budget_mib * 2**20 * 1.25 + 100 * 2**20
                    print(f"\nspill at {ranks} ranks: {spilled} runs on rank 0, peak RSS {peak / 2**20:.1f} MiB "
                          f"(limit {limit / 2**20:.1f} MiB)")
                    self.assertLess(peak, limit)
                    self.assertEqual(os.listdir(scratch), [], "scratch must be empty after the run")


if __name__ == "__main__":
    unittest.main(verbosity=2)
