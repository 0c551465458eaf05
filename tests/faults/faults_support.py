"""Helpers of the fault-injection suite (test_faults.py): the data and the uninterrupted
run every faulty run is compared with, small full file systems, running as an
unprivileged user, and the checks made after every fault."""
import contextlib
import os
import subprocess
import tempfile

import numpy as np
import pandas as pd

from pearl_testing import pearl_command, read_output, write_columnar

SHARDS = 4
ROWS_PER_SHARD = 60_000
# Distinct keys, so the run shuffles and (with --memory 1MiB) spills: every stage is long
# enough to be interrupted, and the output (~5.8 MB) does not fit a 2 MiB file system.
JOB = ["run", "table.aggregate", "--by", "case_id", "--sum", "weight", "--memory", "1MiB"]


def write_inputs(d):
    rng = np.random.default_rng(3)
    for i in range(SHARDS):
        n = ROWS_PER_SHARD
        df = pd.DataFrame({"case_id": np.arange(i * n, (i + 1) * n, dtype=np.uint64)[rng.permutation(n)],
                           "weight": rng.normal(50, 10, n)})
        write_columnar(os.path.join(d, f"cases-{i}.h5"), df, "cases", compress=True, chunk_rows=4096)


def command(inputs, out, scratch, ranks=2, extra=()):
    return pearl_command(*JOB, "--input", f"table={inputs}:/cases", "--output", out, "--scratch", scratch, *extra,
                         ranks=ranks)


def run(cmd, env=None, timeout=300, as_user=None):
    env = dict(os.environ if env is None else env)
    prefix = []
    if as_user is not None:
        prefix = as_user
        env.pop("OMPI_ALLOW_RUN_AS_ROOT", None)
        env.pop("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", None)
        env["HOME"] = "/tmp"
    return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=timeout, env=env)


def nobody():
    """The prefix running a command as the user nobody (root reads through permission
    bits, so permission faults need another user), or None when already unprivileged."""
    if os.geteuid() != 0:
        return None
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def table(path):
    return read_output(path, "aggregate")[0]


@contextlib.contextmanager
def small_filesystem(size_mib=2):
    """A folder on a file system of size_mib MiB: a tmpfs, else a loop-mounted ext2 image.
    Yields (folder, how) or (None, reason) when neither can be mounted here."""
    d = tempfile.mkdtemp(prefix="pearl-full-")
    how = None
    try:
        if os.geteuid() != 0:
            yield None, "not root: cannot mount a small file system"
            return
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=1777", "tmpfs", d],
                           capture_output=True, text=True)
        if r.returncode == 0:
            how = "tmpfs"
        else:
            image = d + ".img"
            subprocess.run(["dd", "if=/dev/zero", f"of={image}", "bs=1M", f"count={size_mib}"], capture_output=True)
            subprocess.run(["mkfs.ext2", "-q", "-F", image], capture_output=True)
            r2 = subprocess.run(["mount", "-o", "loop", image, d], capture_output=True, text=True)
            if r2.returncode != 0:
                yield None, f"cannot mount a tmpfs ({r.stderr.strip()}) or a loop device ({r2.stderr.strip()})"
                return
            os.chmod(d, 0o1777)
            how = "loop"
            for lost in ("lost+found",):
                subprocess.run(["rm", "-rf", os.path.join(d, lost)])
        yield d, how
    finally:
        if how is not None:
            subprocess.run(["umount", "-l", d], capture_output=True)
        if os.path.exists(d + ".img"):
            os.remove(d + ".img")
        os.rmdir(d)
