"""Helpers of the Slurm tests (tests/slurm): fixture shards, the pearl program, and the
local Slurm cluster of scripts/slurm-local (SLURM_CONF from the environment, else its
default place). CTest sets PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS as for the golden tests."""
import os
import subprocess

import numpy as np
import pandas as pd

from pearl_testing import PEARL, write_columnar

SLURM_CONF = os.environ.get("SLURM_CONF", "/tmp/pearl-slurm-local/slurm.conf")


def write_fixture(d, shards=3, rows=4000, seed=5):
    """Shards d/t-<i>.h5 with table /t: region (int32), v (float64). Returns the glob."""
    rng = np.random.default_rng(seed)
    for i in range(shards):
        df = pd.DataFrame({"region": rng.integers(0, 9, rows).astype(np.int32), "v": rng.normal(0, 1, rows)})
        write_columnar(f"{d}/t-{i}.h5", df, "t")
    return f"{d}/t-*.h5"


def aggregate_args(glob, out):
    return ["table.aggregate", "--input", f"table={glob}:/t", "--by", "region", "--sum", "v", "--mean", "v",
            "--output", out]


def run(*args, env=None, cwd=None, timeout=300):
    """`pearl ARGS...` alone (no launcher), as a user types `pearl submit` on a login node."""
    return subprocess.run([PEARL, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def slurm_env(extra=None):
    env = dict(os.environ, SLURM_CONF=SLURM_CONF)
    env.update(extra or {})
    return env


def queue(workdir=None):
    """Job ids in the local cluster's queue (any state squeue shows); with `workdir`, only
    the jobs submitted from there (a test's own, when others share the cluster)."""
    r = subprocess.run(["squeue", "-h", "-o", "%i %Z"], capture_output=True, text=True, env=slurm_env(), timeout=30)
    if r.returncode != 0:
        raise AssertionError("squeue failed (is scripts/slurm-local up?): " + r.stderr)
    jobs = [line.split(maxsplit=1) for line in r.stdout.splitlines() if line.strip()]
    return [j[0] for j in jobs if workdir is None or (len(j) > 1 and j[1].startswith(workdir))]
