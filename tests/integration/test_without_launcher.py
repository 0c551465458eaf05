"""`pearl` started without an MPI launcher runs as one rank and never initialises MPI
(cluster/include/pearl/cluster/launcher.hpp); under a launcher, or with PEARL_MPI=always,
it does.

How a test sees that MPI was not initialised: BROKEN_MPI makes MPI_Init fail in both
libraries pearl is built with (Open MPI: no such PML; MPICH: a value it cannot parse). A
command that succeeds in it never called MPI_Init; the same command with PEARL_MPI=always,
or with a launcher's variable set, must fail in it, which shows the environment does break
MPI_Init for this build (so the test can fail). A one-rank run alone must write what
`mpiexec -n 1` writes: every dataset byte for byte, with the same layout and the same
attributes but for the start and finish times and the run's own time and memory figures.

Run by CTest (without_launcher_e2e) with PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS in the
environment."""
import json
import os
import tempfile
import unittest

import h5py
import numpy as np

from pearl_testing import pearl

BROKEN_MPI = {"OMPI_MCA_pml": "no-such-pml", "MPIR_CVAR_CH3_PORT_RANGE": "not-a-range"}
# What differs between any two runs of the same command: when it ran, how long, how much memory.
RUN_FIGURES = {"started", "finished"}
METRIC_FIGURES = {"seconds", "peak_rss_bytes_max"}


def alone_env(**extra):
    """This environment without any launcher's variables, with MPI_Init broken, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OMPI_COMM_WORLD", "PMI_", "PMIX_", "SLURM_", "PEARL_MPI"))}
    env.update(BROKEN_MPI)
    env.update(extra)
    return env


def attribute_value(name, value):
    if isinstance(value, bytes):
        value = value.decode()
    if name == "metrics":
        figures = json.loads(value)
        return {k: v for k, v in figures.items() if k not in METRIC_FIGURES}
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def raw_bytes(data):
    """The bytes of an array's values; of a variable-length string, its characters (the
    array holds pointers to them), also inside compound records."""
    if data.dtype.names:
        return b"".join(raw_bytes(data[field]) for field in data.dtype.names)
    if data.dtype == object:
        return b"\0".join(v if isinstance(v, bytes) else str(v).encode() for v in data.ravel())
    return data.tobytes()


def description(path):
    """Every object of an HDF5 file: datasets with dtype, shape, layout, filters and raw
    bytes; every attribute's value (run figures left out)."""
    found = {}

    def attributes(obj):
        return {k: attribute_value(k, v) for k, v in obj.attrs.items() if k not in RUN_FIGURES}

    def visit(name, obj):
        entry = {"attributes": attributes(obj)}
        if isinstance(obj, h5py.Dataset):
            data = np.asarray(obj[()])
            entry.update(dtype=str(obj.dtype), shape=obj.shape, chunks=obj.chunks, compression=obj.compression,
                         filters=sorted(obj._filters), raw=raw_bytes(data))
        found[name] = entry

    with h5py.File(path, "r") as f:
        found["/"] = {"attributes": attributes(f)}
        f.visititems(visit)
    return found


def generate_args(domain, directory):
    return ["run", "data.generate", "--domain", domain, "--rows", "30000", "--shards", "2", "--seed", "5",
            "--out-dir", directory]


class WithoutLauncher(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The inputs: the generator's data, written under mpiexec -n 1.
        cls.tmp = tempfile.TemporaryDirectory()
        cls.generated = {}
        for domain in ("health", "transport"):
            cls.generated[domain] = os.path.join(cls.tmp.name, domain)
            r = pearl(*generate_args(domain, cls.generated[domain]), ranks=1, timeout=300)
            assert r.returncode == 0, r.stderr

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def alone(self, *args, **extra):
        return pearl(*args, ranks=None, env=alone_env(**extra), timeout=300)

    def test_commands_alone_do_not_start_mpi(self):
        for args in (["--version"], ["--help"], ["jobs"], ["describe", "table.aggregate"], ["profiles"]):
            with self.subTest(args=args):
                r = self.alone(*args)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout, "nothing printed")
        # The control: asked to initialise MPI, the same command fails in this environment.
        r = self.alone("--version", PEARL_MPI="always")
        self.assertNotEqual(r.returncode, 0, "the broken environment did not break MPI_Init")

    def test_every_launchers_variables_start_mpi(self):
        # One variable (or pair) of each launcher: pearl then initialises MPI, which fails here.
        for launcher in ({"OMPI_COMM_WORLD_SIZE": "1"}, {"PMI_RANK": "0"}, {"PMI_FD": "99"}, {"PMIX_RANK": "0"},
                         {"SLURM_STEP_ID": "0", "SLURM_PROCID": "0"}):
            with self.subTest(launcher=launcher):
                r = self.alone("--version", **launcher)
                self.assertNotEqual(r.returncode, 0, "MPI_Init was not called under a launcher's variables")
        # A Slurm batch script's own shell is no launcher (SLURM_PROCID, no step).
        r = self.alone("--version", SLURM_PROCID="0", SLURM_JOB_ID="4")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_bad_pearl_mpi_is_refused(self):
        r = self.alone("--version", PEARL_MPI="never")
        self.assertEqual(r.returncode, 2)
        self.assertIn("PEARL_MPI=never", r.stderr)

    def assert_alone_equals_mpiexec(self, name, *args):
        """Runs `pearl run ...args --output OUT` alone (MPI broken) and under mpiexec -n 1;
        the outputs must be equal but for the run's own figures. Returns the metrics of both."""
        outs = {}
        for how in ("alone", "mpiexec"):
            out = self.path(f"{name}-{how}.h5")
            cmd = ["run", *args, "--output", out, "--metrics", out + ".json"]
            r = self.alone(*cmd) if how == "alone" else pearl(*cmd, ranks=1, timeout=300)
            self.assertEqual(r.returncode, 0, f"{how}: {r.stderr}")
            outs[how] = out
        want, got = description(outs["mpiexec"]), description(outs["alone"])
        self.assertEqual(sorted(got), sorted(want))
        for obj in want:
            for key in want[obj]:
                self.assertEqual(got[obj][key], want[obj][key], f"{name}: {obj}: {key} differs")
        metrics = {}
        for how, out in outs.items():
            with open(out + ".json") as f:
                metrics[how] = json.load(f)
        return metrics

    def test_data_generate_alone_writes_what_mpiexec_writes(self):
        for domain, want in self.generated.items():
            got = self.path(f"{domain}-alone")
            r = self.alone(*generate_args(domain, got))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(sorted(os.listdir(got)), sorted(os.listdir(want)))
            for shard in os.listdir(want):
                if shard.endswith(".h5"):
                    self.assertEqual(description(f"{got}/{shard}"), description(f"{want}/{shard}"), shard)

    def test_table_aggregate_alone_writes_what_mpiexec_writes(self):
        cases = f"table={self.generated['health']}/cases-*.h5:/cases"
        m = self.assert_alone_equals_mpiexec("aggregate", "table.aggregate", "--input", cases, "--by",
                                             "region_code,sex", "--mean", "age_years", "--max", "onset_day")
        # The metrics say whether MPI ran.
        self.assertIn("MPI not initialised", m["alone"]["mpi_version"])
        self.assertNotIn("not initialised", m["mpiexec"]["mpi_version"])
        self.assertEqual(m["alone"]["ranks"], 1)

    def test_transport_flow_alone_writes_what_mpiexec_writes(self):
        self.assert_alone_equals_mpiexec("flow", "transport.flow", "--input",
                                         f"gps={self.generated['transport']}/gps-*.h5")


if __name__ == "__main__":
    unittest.main(verbosity=2)
