#!/usr/bin/python3
"""Memory bound of the built-in jobs (issue 21): run at a small --memory on inputs at least
8 times that budget, at 1 and 2 ranks, each rank's peak RSS stays within budget + 25 % +
100 MiB. The peak is the OS's account of each rank process (/usr/bin/time's maximum
resident set size, from wait4), read outside pearl.

    memory_bound.py generate DIR JOB...  the inputs of the JOBs, in DIR (each kept while its
                                         DIR/SOURCE/.generated matches)
    memory_bound.py check DIR JOB...     each JOB at 1 and 2 ranks (inputs made first if
                                         missing); exit 1 over the bound
    memory_bound.py measure DIR JOB...   the same, printing the figures without failing

The inputs: data.generate's health (cases), social (contributions, claims, deaths) and
transport (taps, gps) shards, sized so that each job's input files hold at least 8 x
BUDGET bytes; checkups (health.risk_model) and unemployment spells (social.unemployment),
which data.generate makes too few of at these sizes, from the golden tests' own fixture
builders. data.generate itself is checked on the output it writes (8 x BUDGET too).

CTest (tests/memory/CMakeLists.txt) runs `generate` once (fixture memory.data) and a
`check` per job; `measure` prints the figures without failing (docs/performance.md,
"Memory bound of the built-in jobs"). Environment: PEARL_BIN, MPIEXEC, MPIEXEC_FLAGS (pearl_testing)."""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from pearl_testing import MPIEXEC, MPIEXEC_FLAGS, PEARL, write_columnar  # noqa: E402

MiB = 1 << 20
BUDGET = 16 * MiB
BOUND = BUDGET + BUDGET // 4 + 100 * MiB
# data.generate --rows per domain: the smallest sizes whose tables reach 8 x BUDGET (cases
# ~51 B a row; contributions ~350 B per claim row; taps ~22 B, gps ~29 B a row).
ROWS = {"health": 2_800_000, "social": 400_000, "transport": 6_200_000}
FIXTURE_ROWS = {"checkups": 6_800_000, "unemployment": 6_800_000}  # ~20 B a row each

# job -> (inputs: {name: glob under DIR}, extra options)
JOBS = {
    "health.incidence": ({"cases": "health/cases-*.h5", "population": "health/population-*.h5"}, []),
    "health.outbreak": ({"cases": "health/cases-*.h5"}, []),
    "health.risk_model": ({"checkups": "checkups/checkups-*.h5"}, []),
    "social.compliance": ({"contributions": "social/contributions-*.h5"}, []),
    "social.anomalies": ({"claims": "social/claims-*.h5", "deaths": "social/deaths-*.h5",
                          "contributions": "social/contributions-*.h5"}, []),
    "social.unemployment": ({"unemployment": "unemployment/unemployment-*.h5",
                             "labour_force": "unemployment/labour_force-*.h5"}, []),
    "transport.od": ({"taps": "transport/taps-*.h5"}, []),
    "transport.flow": ({"gps": "transport/gps-*.h5"}, []),
    # many distinct keys: the engine's tables, not a dense array, hold the groups
    "table.aggregate": ({"table": "social/contributions-*.h5:/contributions"},
                        ["--by", "person_id", "--sum", "due", "--dense-array", "false"]),
    "privacy.pseudonymize": ({"table": "health/cases-*.h5:/cases"}, ["--columns", "person_id", "--key-file", "KEY"]),
    "data.generate": ({}, ["--domain", "social", "--rows", str(ROWS["social"]), "--out-dir", "OUT"]),
}


def pearl_run(ranks, args, work):
    """pearl `args` at `ranks` ranks, each rank under /usr/bin/time: [peak RSS bytes per rank]."""
    for old in glob.glob(f"{work}/rss.*"):
        os.remove(old)
    inner = f'exec /usr/bin/time -f %M -o {work}/rss.${{OMPI_COMM_WORLD_RANK:-${{PMI_RANK:-0}}}} "$@"'
    cmd = [MPIEXEC, "-n", str(ranks), *MPIEXEC_FLAGS, "sh", "-c", inner, "sh", PEARL, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"pearl {' '.join(args)} at {ranks} rank(s) failed ({r.returncode}):\n{r.stderr}")
    peaks = []
    for rank in range(ranks):
        with open(f"{work}/rss.{rank}") as f:
            peaks.append(int(f.read().split()[-1]) * 1024)  # kB
    return peaks


def sources(job):
    """The folders under DIR that `job` reads: a data.generate domain or a fixture's table."""
    inputs, extra = JOBS[job]
    return sorted({g.split("/")[0] for g in inputs.values()})


def fixture_frames(source, rows):
    """{table: DataFrame} of a fixture source, from the golden test's own builder (imported by
    path: the tests are not a package)."""
    rng = np.random.default_rng(5)
    if source == "checkups":
        sys.path.insert(0, os.path.join(ROOT, "jobs", "health", "risk_model"))
        import test_risk_model
        return {"checkups": test_risk_model.simulate(rng, rows)}
    sys.path.insert(0, os.path.join(ROOT, "jobs", "social"))
    import test_unemployment
    spells, lf = test_unemployment.fixture(rng, rows)
    return {"unemployment": spells, "labour_force": lf}


def generate(d, jobs):
    """The inputs of `jobs` in DIR, each source made once (DIR/SOURCE/.generated says how)."""
    for source in sorted({s for job in jobs for s in sources(job)}):
        folder = os.path.join(d, source)
        stamp = os.path.join(folder, ".generated")
        params = f"rows {ROWS.get(source, FIXTURE_ROWS.get(source))}, seed 5"
        if os.path.exists(stamp) and open(stamp).read() == params:
            continue
        os.makedirs(folder, exist_ok=True)
        if source in ROWS:
            pearl_run(2, ["run", "data.generate", "--domain", source, "--rows", str(ROWS[source]), "--shards", "4",
                          "--seed", "5", "--out-dir", folder, "--overwrite"], d)
        else:
            for table, df in fixture_frames(source, FIXTURE_ROWS[source]).items():
                for k, part in enumerate(np.array_split(df, 4 if len(df) > 1000 else 1)):
                    write_columnar(os.path.join(folder, f"{table}-{k:04d}.h5"), part.reset_index(drop=True), table,
                                   chunk_rows=1 << 16)
        with open(stamp, "w") as f:
            f.write(params)


def input_bytes(d, inputs):
    return sum(os.path.getsize(p) for g in inputs.values() for p in glob.glob(os.path.join(d, g.split(":")[0])))


def check(d, job, fail):
    inputs, extra = JOBS[job]
    ok = True
    with tempfile.TemporaryDirectory() as work:
        key = os.path.join(work, "key")
        with open(key, "w") as f:
            f.write("memory-bound-test-key-0123456789\n")
        os.chmod(key, 0o600)
        for ranks in (1, 2):
            out = os.path.join(work, f"out-{ranks}")
            args = ["run", job, *[x for n, g in inputs.items() for x in ("--input", f"{n}={d}/{g}")],
                    *[{"KEY": key, "OUT": out}.get(x, x) for x in extra], "--memory", f"{BUDGET // MiB}MiB"]
            if job != "data.generate":
                args += ["--output", out + ".h5"]
            peaks = pearl_run(ranks, args, work)
            size = input_bytes(d, inputs) if inputs else sum(os.path.getsize(p) for p in glob.glob(f"{out}/*"))
            within = max(peaks) <= BOUND and size >= 8 * BUDGET
            ok &= within
            print(f"{job} at {ranks} rank(s), --memory {BUDGET // MiB}MiB, {'input' if inputs else 'output'} "
                  f"{size / MiB:.0f} MiB ({size / BUDGET:.1f} x budget): peak RSS per rank "
                  f"{'/'.join(f'{p / MiB:.0f}' for p in peaks)} MiB, bound {BOUND / MiB:.0f} MiB: "
                  f"{'within' if within else 'OVER' if size >= 8 * BUDGET else 'INPUT TOO SMALL'}", flush=True)
    return ok or not fail


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("generate", "check", "measure"):
        sys.exit(__doc__)
    mode, d, jobs = sys.argv[1], sys.argv[2], sys.argv[3:]
    unknown = [j for j in jobs if j not in JOBS]
    if unknown:
        sys.exit(f"unknown job(s) {unknown}; known: {', '.join(JOBS)}")
    generate(d, jobs)
    if mode == "generate":
        return 0
    results = [check(d, job, mode == "check") for job in jobs]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
