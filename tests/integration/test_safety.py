#!/usr/bin/python3
"""Data safety of the `pearl` program (docs/reliability.md): outputs never over inputs or
devices, no overwrite without --overwrite, every artefact committed together, output and
scratch permissions, leftovers of dead runs removed, option domains checked at parse time,
integer overflow named, repeated or misspelt names refused before any work.

Each test was written against the behaviour it guards and fails without its fix.
Run by CTest with PEARL_BIN, MPIEXEC, MPIEXEC_FLAGS and PYTHONPATH=tests/support."""
import hashlib
import os
import socket
import stat
import subprocess
import tempfile
import unittest

import numpy as np
import pandas as pd

from pearl_testing import pearl, write_columnar

ERROR = "pearl: error"


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def dead_pid():
    """The pid of a process that has ended (its pid is not reused this quickly)."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def leftovers(directory):
    return sorted(n for n in os.listdir(directory) if ".tmp@" in n or n.startswith("pearl-"))


class Fixture(unittest.TestCase):
    """A small table in two shards and the table.aggregate command over it."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.addCleanup(self.tmp.cleanup)
        rng = np.random.default_rng(7)
        for k in range(2):
            df = pd.DataFrame({"region": rng.integers(1, 4, 50).astype(np.int64),
                               "v": rng.integers(0, 100, 50).astype(np.int64)})
            write_columnar(os.path.join(self.dir, f"in-{k}.h5"), df, "t")
        self.shard = os.path.join(self.dir, "in-0.h5")

    def aggregate(self, *extra, output=None, ranks=1, inputs=None):
        args = ["run", "table.aggregate", "--input", inputs or f"table={self.dir}/in-*.h5:/t", "--by", "region",
                "--sum", "v"]
        if output is not None:
            args += ["--output", output]
        return pearl(*args, *extra, ranks=ranks)

    def assert_refused(self, r, *words):
        self.assertEqual(r.returncode, 2, r.stderr)
        errors = [l for l in r.stderr.splitlines() if l.startswith(ERROR)]
        self.assertEqual(len(errors), 1, r.stderr)
        for w in words:
            self.assertIn(w, errors[0])
        return errors[0]


class OutputsNeverOverInputs(Fixture):
    def test_an_output_that_is_an_input_by_any_name_is_refused_and_the_input_kept(self):
        before = digest(self.shard)
        os.symlink(self.shard, os.path.join(self.dir, "link.h5"))
        os.link(self.shard, os.path.join(self.dir, "hard.h5"))
        sub = os.path.join(self.dir, "sub")
        os.mkdir(sub)
        for name in (self.shard, os.path.join(sub, "..", "in-0.h5"), os.path.join(self.dir, "link.h5"),
                     os.path.join(self.dir, "hard.h5")):
            for extra in ((), ("--overwrite",)):
                with self.subTest(output=name, extra=extra):
                    err = self.assert_refused(self.aggregate(*extra, output=name, ranks=2), name, self.shard)
                    self.assertIn("never writes over an input", err)
                    self.assertEqual(digest(self.shard), before)
                    self.assertEqual(leftovers(self.dir), [])

    def test_a_device_a_directory_or_a_fifo_is_never_an_output(self):
        # Never /dev/null itself: a pearl without this check, run as root (as CI is),
        # replaces the machine's /dev/null with an HDF5 file. A private node of the same
        # device (character 1,3) stands in for it; making one needs root.
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        targets = [(self.dir, "a directory"), (fifo, "a FIFO")]
        null = os.path.join(self.dir, "null")
        if os.geteuid() == 0:
            os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
            targets.append((null, "a character device"))
        for target, kind in targets:
            for extra in ((), ("--overwrite",)):
                with self.subTest(target=target, extra=extra):
                    self.assert_refused(self.aggregate(*extra, output=target), target, kind)
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))
        if os.geteuid() == 0:
            self.assertTrue(stat.S_ISCHR(os.stat(null).st_mode))


class NoOverwriteBySurprise(Fixture):
    def test_an_existing_output_needs_overwrite(self):
        out = os.path.join(self.dir, "out.h5")
        with open(out, "w") as f:
            f.write("not HDF5, someone's notes\n")
        err = self.assert_refused(self.aggregate(output=out), out, "--overwrite")
        self.assertIn("exists", err)
        with open(out) as f:
            self.assertEqual(f.read(), "not HDF5, someone's notes\n")
        r = self.aggregate("--overwrite", output=out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(8), b"\x89HDF\r\n\x1a\n")

    def test_a_read_only_output_is_not_replaced_even_with_overwrite(self):
        out = os.path.join(self.dir, "kept.h5")
        with open(out, "w") as f:
            f.write("final report\n")
        os.chmod(out, 0o444)
        err = self.assert_refused(self.aggregate("--overwrite", output=out), out, "read-only", "0444")
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o444)
        with open(out) as f:
            self.assertEqual(f.read(), "final report\n")

    def test_outputs_get_mode_0640_or_output_mode_whatever_the_umask(self):
        out = os.path.join(self.dir, "out.h5")
        csv = os.path.join(self.dir, "csv")
        os.mkdir(csv)
        r = self.aggregate("--csv", csv, output=out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o640)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(csv, "aggregate.csv")).st_mode), 0o640)
        r = self.aggregate("--overwrite", "--output-mode", "0600", output=out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        for bad in ("0999", "rw-r-----", "01777"):
            with self.subTest(mode=bad):
                self.assert_refused(self.aggregate("--overwrite", "--output-mode", bad, output=out), "--output-mode")


class AllArtefactsCommittedTogether(Fixture):
    def test_a_failing_csv_leaves_neither_the_h5_nor_any_csv(self):
        out = os.path.join(self.dir, "out.h5")
        csv = os.path.join(self.dir, "csv")
        os.makedirs(os.path.join(csv, "aggregate.csv"))  # a directory where the CSV file goes
        for ranks in (1, 2):
            with self.subTest(ranks=ranks):
                self.assert_refused(self.aggregate("--csv", csv, output=out, ranks=ranks), "aggregate.csv")
                self.assertFalse(os.path.exists(out))
                self.assertEqual(leftovers(self.dir), [])
                self.assertEqual(os.listdir(csv), ["aggregate.csv"])

    def test_the_csv_copy_needs_overwrite_too(self):
        out = os.path.join(self.dir, "out.h5")
        csv = os.path.join(self.dir, "csv")
        os.mkdir(csv)
        with open(os.path.join(csv, "aggregate.csv"), "w") as f:
            f.write("old\n")
        self.assert_refused(self.aggregate("--csv", csv, output=out), "aggregate.csv", "--overwrite")
        self.assertFalse(os.path.exists(out))
        r = self.aggregate("--csv", csv, "--overwrite", output=out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(csv, "aggregate.csv")) as f:
            self.assertEqual(f.readline(), "region,count,sum_v\n")


class LeftoversOfDeadRuns(Fixture):
    def test_temporaries_and_scratch_of_dead_runs_are_removed_and_said(self):
        host = socket.gethostname()
        scratch = os.path.join(self.dir, "scratch")
        os.mkdir(scratch)
        dead, alive = dead_pid(), os.getpid()
        stale_temp = os.path.join(self.dir, f".old.h5.tmp@{host}+{dead}-0123456789ab")
        stale_scratch = os.path.join(scratch, f"pearl-rank0@{host}+{dead}-AbCdEf")
        kept = [os.path.join(self.dir, f".old.h5.tmp@{host}+{alive}-0123456789ab"),
                os.path.join(self.dir, f".old.h5.tmp@other-node+{dead}-0123456789ab"),
                os.path.join(scratch, f"pearl-rank1@{host}+{alive}-AbCdEf")]
        for path in (stale_temp, kept[0], kept[1]):
            with open(path, "wb") as f:
                f.write(b"\0" * 1024)
        for path in (stale_scratch, kept[2]):
            os.mkdir(path)
            with open(os.path.join(path, "reduce-0.run"), "wb") as f:
                f.write(b"\0" * 1024)
        out = os.path.join(self.dir, "out.h5")
        r = self.aggregate("--scratch", scratch, output=out, ranks=2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(stale_temp))
        self.assertFalse(os.path.exists(stale_scratch))
        for path in kept:
            self.assertTrue(os.path.exists(path), path)
        self.assertIn(f"removed temporary output {stale_temp} of a run that died", r.stderr)
        self.assertIn(f"removed scratch directory {stale_scratch} of a run that died", r.stderr)

    def test_a_missing_or_unwritable_scratch_is_an_input_error_before_any_work(self):
        r = pearl("run", "demo.sum", "--rows", "10", "--scratch", "/nonexistent/scratch")
        self.assert_refused(r, "/nonexistent/scratch")
        self.assertNotIn("events", r.stdout)
        a_file = os.path.join(self.dir, "in-1.h5")
        self.assert_refused(pearl("run", "demo.sum", "--rows", "10", "--scratch", a_file), a_file)


class OptionDomains(unittest.TestCase):
    def test_numbers_outside_their_domain_exit_2_naming_option_and_domain(self):
        with tempfile.TemporaryDirectory() as d:
            for args, option, domain in [
                (["run", "demo.sum", "--threads", "100000"], "--threads", ".."),
                (["run", "demo.sum", "--threads", "0"], "--threads", "1.."),
                (["run", "demo.sum", "--keys", "-1"], "--keys", "N>=1"),
                (["run", "demo.sum", "--rows", "-5"], "--rows", "N>=0"),
                (["run", "demo.sum", "--rows", "5x"], "--rows", "N>=0"),
                (["run", "demo.sum", "--rows", "99999999999999999999999"], "--rows", "N>=0"),
                (["run", "data.generate", "--domain", "health", "--out-dir", d, "--rows", "-5"], "--rows", "N>=1"),
                (["run", "data.generate", "--domain", "health", "--out-dir", d, "--shards", "-1"], "--shards", "1.."),
                (["run", "data.generate", "--domain", "health", "--out-dir", d, "--seed", "-1"], "--seed", "N>=0"),
                (["run", "health.outbreak", "--baseline", "2"], "--baseline", "N>=3"),
                (["run", "health.incidence", "--per", "0"], "--per", "X>0"),
                (["run", "health.incidence", "--per", "nan"], "--per", "X>0"),
                (["run", "transport.flow", "--slot-minutes", "20000"], "--slot-minutes", "1..10080"),
            ]:
                with self.subTest(args=args):
                    r = pearl(*args, ranks=None)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    errors = [l for l in r.stderr.splitlines() if l.startswith(ERROR)]
                    self.assertEqual(len(errors), 1, r.stderr)
                    self.assertIn(option, errors[0])
                    self.assertIn(f"domain {domain}" if not domain.startswith("..") else "domain 1..", errors[0])
                    self.assertEqual(os.listdir(d), [])

    def test_help_shows_the_domains_and_works_with_required_options(self):
        for job, shown in (("table.aggregate", "--threads 1.."), ("data.generate", "--shards 1..1048576 (=4)"),
                           ("demo.sum", "--keys N>=1 (=1000)"), ("health.risk_model", "--tol X>0")):
            with self.subTest(job=job):
                r = pearl("run", job, "--help", ranks=None)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(shown, r.stdout)
                r = pearl("describe", job, ranks=None)
                self.assertEqual(r.returncode, 0, r.stderr)


class NamesCheckedBeforeWork(Fixture):
    def test_a_repeated_aggregate_column_is_a_usage_error(self):
        out = os.path.join(self.dir, "out.h5")
        for option in ("--sum", "--mean", "--min", "--max"):
            with self.subTest(option=option):
                r = pearl("run", "table.aggregate", "--input", f"table={self.dir}/in-*.h5:/t", "--by", "region",
                          option, "v,v", "--output", out, "--verbose", ranks=2)
                self.assert_refused(r, option, "'v' is given twice")
                self.assertNotIn("running table.aggregate", r.stderr)
                self.assertFalse(os.path.exists(out))

    def test_an_undeclared_input_name_is_refused_with_the_closest(self):
        out = os.path.join(self.dir, "out.h5")
        r = self.aggregate(output=out, inputs=f"tabel={self.dir}/in-*.h5:/t")
        self.assert_refused(r, "'tabel'", "did you mean 'table'")
        r = pearl("run", "social.anomalies", "--input", f"claims={self.shard}", "--input", f"deaths={self.shard}",
                  "--input", f"contribution={self.shard}:/contributions", "--output", out)
        self.assert_refused(r, "'contribution'", "did you mean 'contributions'")


class IntegerOverflow(Fixture):
    def test_an_int64_sum_that_overflows_names_column_and_group(self):
        big = 2**62
        df = pd.DataFrame({"region": np.array([1, 2, 2, 2, 3], dtype=np.int64),
                           "v": np.array([5, big, big, 1, 7], dtype=np.int64)})  # region 2: 2^63 + 1
        for k, part in enumerate((df.iloc[:2], df.iloc[2:])):
            write_columnar(os.path.join(self.dir, f"big-{k}.h5"), part.reset_index(drop=True), "t")
        out = os.path.join(self.dir, "out.h5")
        for ranks in (1, 2, 3):
            for extra in ((), ("--dense-array", "false"), ("--mean", "v")):
                with self.subTest(ranks=ranks, extra=extra):
                    r = self.aggregate(*extra, output=out, ranks=ranks, inputs=f"table={self.dir}/big-*.h5:/t")
                    self.assert_refused(r, "column 'v'", "group (region=2)", "overflows")
                    self.assertFalse(os.path.exists(out))
        # Just inside the range is exact.
        small = pd.DataFrame({"region": np.array([1, 1], dtype=np.int64),
                              "v": np.array([2**62, 2**62 - 1], dtype=np.int64)})
        write_columnar(os.path.join(self.dir, "edge-0.h5"), small, "t")
        r = self.aggregate(output=out, inputs=f"table={self.dir}/edge-*.h5:/t")
        self.assertEqual(r.returncode, 0, r.stderr)
        import h5py
        with h5py.File(out) as f:
            self.assertEqual(int(f["aggregate/sum_v"][0]), 2**63 - 1)

    def test_a_population_that_overflows_names_the_stratum(self):
        cases = pd.DataFrame({"case_id": np.array([1], dtype=np.uint64), "age_years": np.array([30], dtype=np.uint8),
                              "sex": np.array([1], dtype=np.uint8), "region_code": np.array([440106], dtype=np.uint32),
                              "disease": ["A00"], "onset_day": np.array([19000], dtype=np.int32),
                              "report_day": np.array([19001], dtype=np.int32)})
        pop = pd.DataFrame({"region_code": np.array([440106, 440106], dtype=np.uint32),
                            "year": np.array([2022, 2022], dtype=np.uint16), "sex": np.array([1, 2], dtype=np.uint8),
                            "age_group": np.array([6, 6], dtype=np.uint8),
                            "population": np.array([2**62, 2**62], dtype=np.int64)})
        write_columnar(os.path.join(self.dir, "cases.h5"), cases, "cases")
        write_columnar(os.path.join(self.dir, "pop.h5"), pop, "population")
        out = os.path.join(self.dir, "inc.h5")
        r = pearl("run", "health.incidence", "--input", f"cases={self.dir}/cases.h5", "--input",
                  f"population={self.dir}/pop.h5", "--output", out, ranks=None)
        self.assert_refused(r, "pop.h5", "the population of region 440100, year 2022", "age group 6", "64-bit")
        self.assertFalse(os.path.exists(out))



if __name__ == "__main__":
    unittest.main(verbosity=2)
