"""Shared by tests/checkpoint: generated health data, the jobs run on it, and the steps of an
interrupted run (start it held after each checkpoint save, wait for a saved operation,
interrupt it) and of comparing two outputs column by column, byte for byte."""
import os
import signal
import subprocess
import time

import h5py
import numpy as np

from pearl_testing import MPIEXEC, pearl, pearl_command

# The jobs a checkpoint test runs: (name, arguments after the inputs). table.aggregate by a
# string key (its map keeps no dense arrays, so its first operation is restorable), one
# health job with four operations (health.outbreak: counts, series, rows, global sort) and
# one reading two inputs (health.incidence).
JOBS = {
    "table.aggregate": lambda d: ["--input", f"table={d}/cases-*.h5:/cases", "--by", "disease,sex",
                                  "--sum", "age_years", "--mean", "age_years"],
    "health.outbreak": lambda d: ["--input", f"cases={d}/cases-*.h5", "--memory", "4MiB"],
    "health.incidence": lambda d: ["--input", f"cases={d}/cases-*.h5", "--input", f"population={d}/population-*.h5"],
}

HOLD = "PEARL_TEST_HOLD_AFTER_CHECKPOINT"


def generate(d, rows=20000):
    r = pearl("run", "data.generate", "--domain", "health", "--rows", str(rows), "--shards", "3", "--seed", "17",
              "--out-dir", d, ranks=2, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def is_mpich():
    out = subprocess.run([MPIEXEC, "--version"], capture_output=True, text=True).stdout
    return "HYDRA" in out or "MPICH" in out


def saved_operations(out):
    """The operations the manifest of `out`'s checkpoint records (indices)."""
    try:
        with open(out + ".checkpoint/manifest") as f:
            return [int(line.split()[1]) for line in f if line.startswith("op ")]
    except FileNotFoundError:
        return []


def start_held(job_args, out, ranks, every="0", hold=60):
    """Starts `pearl run` with a checkpoint at every operation boundary (`every`), pausing
    `hold` seconds after each save, in its own session (so the test can signal all of it)."""
    env = dict(os.environ, **{HOLD: str(hold)})
    cmd = pearl_command("run", *job_args, "--output", out, "--checkpoint-every", every, ranks=ranks)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_saved(p, out, count, timeout=240):
    """Waits until `out`'s checkpoint holds `count` operations (the run is then held)."""
    deadline = time.time() + timeout
    while time.time() < deadline and len(saved_operations(out)) < count:
        if p.poll() is not None:
            raise AssertionError("the run ended before its checkpoint held %d operations: %s" %
                                 (count, p.communicate()[1]))
        time.sleep(0.1)
    assert len(saved_operations(out)) >= count, f"no checkpoint with {count} operations after {timeout} s"


def kill_all(p):
    """SIGKILL to every process of the run: the launcher and all ranks."""
    os.killpg(p.pid, signal.SIGKILL)
    p.communicate(timeout=60)


def rank_pids(out):
    """The pids of the pearl ranks writing `out` (the path is unique to one test run)."""
    r = subprocess.run(["pgrep", "-f", f"pearl run .*--output {out}"], capture_output=True, text=True)
    pids = []
    for pid in r.stdout.split():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv0 = os.path.basename(f.read().split(b"\0")[0].decode())
        except FileNotFoundError:
            continue
        if argv0 == "pearl":
            pids.append(int(pid))
    return pids


def datasets(path):
    """{dataset path: (dtype, raw bytes)} for every dataset in an HDF5 file."""
    found = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            data = np.asarray(obj[()])
            # Variable-length strings come back as Python objects: their bytes, not pointers.
            raw = b"\0".join(bytes(v) for v in data.ravel()) if data.dtype == object else data.tobytes()
            found[name] = (str(obj.dtype), raw)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return found


def assert_same_output(test, got, want):
    """Every dataset of `got` has the dtype and the bytes of `want`'s (attributes such as the
    start time may differ)."""
    a, b = datasets(got), datasets(want)
    test.assertEqual(sorted(a), sorted(b))
    for name in b:
        test.assertEqual(a[name][0], b[name][0], name)
        test.assertTrue(a[name][1] == b[name][1], f"{name}: the bytes differ from the uninterrupted run")
