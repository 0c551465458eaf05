"""What the transport jobs' golden tests share (test_od.py, test_flow.py): the bad-input case
that runs a job on a file expecting exit 2, one error line naming the problem and no output,
the generator's transport data and the check of `pearl describe`.

    class BadInput(BadInputCase):
        JOB, INPUT = "transport.od", "taps"

        @classmethod
        def setUpClass(cls):
            super().setUpClass()              # cls.tmp, a TemporaryDirectory, and cls.d, its name
            write_columnar(f"{cls.d}/bad.h5", ...)

        def test_bad(self):
            self.expect_error(f"{self.d}/bad.h5", ("--max-trip-minutes", "0"), ["--max-trip-minutes"], ranks=2)
"""
import os
import tempfile
import unittest

from pearl_testing import pearl


class BadInputCase(unittest.TestCase):
    """Exit 2, one line naming the problem (file/table/column or option), no output file."""
    JOB = None    # the job's name
    INPUT = None  # its input's name in --input NAME=FILE

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.d = cls.tmp.name

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def expect_error(self, file, extra, fragments, ranks):
        out = os.path.join(self.d, "out.h5")
        if os.path.exists(out):  # a rerun replaces it (pearl refuses without --overwrite)
            os.remove(out)
        r = pearl("run", self.JOB, "--input", f"{self.INPUT}={file}", "--output", out, *extra, ranks=ranks)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        errors = [l for l in r.stderr.splitlines() if l.startswith("pearl")]
        self.assertEqual(len(errors), 1, r.stderr)
        for f in fragments:
            self.assertIn(f, errors[0])
        self.assertFalse(os.path.exists(out), "no output on failure")


def check_describe(test, job, texts):
    """`pearl describe JOB` succeeds and its text mentions each of `texts`."""
    r = pearl("describe", job)
    test.assertEqual(r.returncode, 0, r.stderr)
    for text in texts:
        test.assertIn(text, r.stdout)


def generate(test, directory, rows, seed, shards=3):
    """`data.generate --domain transport` at 2 ranks into `directory` (returned)."""
    r = pearl("run", "data.generate", "--domain", "transport", "--rows", str(rows), "--shards", str(shards),
              "--seed", str(seed), "--out-dir", directory, ranks=2)
    test.assertEqual(r.returncode, 0, r.stderr)
    return directory
