"""Progress lines: in a log (stderr not a terminal) one plain line every --progress-every
seconds; on a terminal (script(1) gives pearl a pty) one live line rewritten with '\\r';
nothing under --quiet. The run is stretched to a few seconds by the test hook that holds
before the commit (PEARL_TEST_HOLD_BEFORE_COMMIT)."""
import os
import shlex
import subprocess
import tempfile
import time
import unittest

import numpy as np
import pandas as pd

from pearl_testing import pearl, pearl_command, write_columnar

HOLD = 4


class ProgressTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        df = pd.DataFrame({"id": np.arange(50_000) % 100, "v": np.ones(50_000)})
        write_columnar(f"{cls.dir.name}/in.h5", df, "t")
        cls.env = dict(os.environ, PEARL_TEST_HOLD_BEFORE_COMMIT=str(HOLD))

    def args(self, name, *extra):
        return ("run", "table.aggregate", "--input", f"table={self.dir.name}/in.h5:/t", "--by", "id", "--sum", "v",
                "--output", f"{self.dir.name}/{name}.h5", *extra)

    def test_log_gets_a_line_per_period(self):
        started = time.monotonic()
        r = pearl(*self.args("log", "--progress-every", "1"), ranks=2, env=self.env)
        wall = time.monotonic() - started
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.startswith("pearl: progress: ")]
        self.assertNotIn("\r", r.stderr)
        # one line per second of the run, from rank 0 only (the first after one second;
        # the launcher's start-up is part of the wall time measured here)
        self.assertGreaterEqual(len(lines), HOLD - 1, r.stderr)
        self.assertLessEqual(len(lines), wall + 1, r.stderr)
        self.assertTrue(any("50000 of 50000 rows (100%)" in l for l in lines), lines)
        self.assertTrue(any(l.startswith("pearl: progress: ") and ", stage commit" in l for l in lines), lines)

    def test_quiet_prints_nothing(self):
        r = pearl(*self.args("quiet", "--progress-every", "1", "--quiet"), ranks=2, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "")

    def test_terminal_gets_a_live_line(self):
        # Without a launcher: mpirun hands its ranks pipes, not the terminal.
        command = shlex.join(pearl_command(*self.args("tty"), ranks=None))
        # bytes, not text: text mode would turn the '\r' into newlines
        r = subprocess.run(["script", "-qfec", command, "/dev/null"], capture_output=True, env=self.env,
                           timeout=120, stdin=subprocess.DEVNULL)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out)
        updates = out.count("\r\x1b[Kpearl: ")
        self.assertGreaterEqual(updates, HOLD, repr(out))  # every half second
        self.assertNotIn("\n\x1b[Kpearl: ", out)  # rewritten in place, not one line each
        self.assertNotIn("pearl: progress: ", out)


if __name__ == "__main__":
    unittest.main()
