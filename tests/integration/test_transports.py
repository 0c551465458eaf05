#!/usr/bin/python3
"""The shuffle across a real network transport: table.aggregate and health.incidence at 3
ranks with shared memory off, so every byte between ranks crosses TCP as between nodes,
give the same output as with shared memory. Open MPI: `--mca pml ob1 --mca btl tcp,self`
(ob1 so that the UCX pml, with its own shared memory, is not chosen). MPICH 4 (ch4:ucx):
MPIR_CVAR_NOLOCAL=1 treats every rank as remote (no MPICH shared memory) and
UCX_TLS=self,tcp leaves UCX only TCP between processes; there the runs use 2 ranks, as
Debian 12's MPICH 4.0.2 with UCX hangs in MPI_Finalize about one time in two at 3 TCP-only
ranks (an MPI_Alltoall then MPI_Finalize in C does the same; 2 ranks finish every time).
Label e2e."""
import os
import subprocess
import tempfile
import unittest

import h5py
import numpy as np

from pearl_testing import MPIEXEC, MPIEXEC_FLAGS, PEARL, pearl


def is_mpich():
    r = subprocess.run([MPIEXEC, "--version"], capture_output=True, text=True)
    return "HYDRA" in r.stdout or "mpich" in r.stdout.lower()


def tcp_only(args, ranks):
    """The command and environment running pearl `args` with shared-memory transports off."""
    env = dict(os.environ)
    if is_mpich():
        env.update(MPIR_CVAR_NOLOCAL="1", UCX_TLS="self,tcp")
        flags = []
    else:
        flags = ["--mca", "pml", "ob1", "--mca", "btl", "tcp,self"]
    return [MPIEXEC, "-n", str(ranks), *MPIEXEC_FLAGS, *flags, PEARL, *args], env


def datasets(path):
    with h5py.File(path, "r") as f:
        out = {}
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
        return out


# Both ranks of a 2-rank run still exchange every shuffle through TCP.
RANKS = 2 if is_mpich() else 3


class Transports(unittest.TestCase):
    def test_tcp_gives_the_shared_memory_output(self):
        with tempfile.TemporaryDirectory() as d:
            g = pearl("run", "data.generate", "--domain", "health", "--rows", "60000", "--shards", "4", "--seed", "3",
                      "--out-dir", d, ranks=2, timeout=300)
            self.assertEqual(g.returncode, 0, g.stderr)
            jobs = {
                "aggregate": ["table.aggregate", "--input", f"table={d}/cases-*.h5:/cases", "--by",
                              "region_code,disease", "--mean", "age_years", "--memory", "8MiB"],
                "incidence": ["health.incidence", "--input", f"cases={d}/cases-*.h5", "--input",
                              f"population={d}/population-*.h5", "--by", "region,disease,year"],
            }
            for name, job in jobs.items():
                with self.subTest(name):
                    shm = pearl("run", *job, "--output", f"{d}/{name}-shm.h5", ranks=RANKS, timeout=300)
                    self.assertEqual(shm.returncode, 0, shm.stderr)
                    cmd, env = tcp_only(["run", *job, "--output", f"{d}/{name}-tcp.h5", "--verbose"], RANKS)
                    tcp = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
                    self.assertEqual(tcp.returncode, 0, tcp.stderr)
                    got, want = datasets(f"{d}/{name}-tcp.h5"), datasets(f"{d}/{name}-shm.h5")
                    self.assertEqual(sorted(got), sorted(want))
                    for k in want:
                        self.assertEqual(got[k].dtype, want[k].dtype, k)
                        nan = got[k].dtype.kind == "f"  # NaN (e.g. a rate of an empty group) equals NaN
                        self.assertTrue(np.array_equal(got[k], want[k], equal_nan=nan), k)


if __name__ == "__main__":
    unittest.main(verbosity=2)
