#!/usr/bin/python3
"""bench/health/end_to_end_bench.py — health.incidence, health.outbreak and health.risk_model end to
end (process start to exit) against their references, on data already generated, measured in CPU
time as well as wall time so that the figures mean something on a shared machine.

    /usr/bin/python3 bench/health/end_to_end_bench.py --pearl build/bin/pearl \
        --data /work/data/d4m/health [--baseline OTHER/bin/pearl] [--repeat 3] [--ranks 1]

DATA holds `pearl run data.generate --domain health --rows 4000000 --shards 4 --seed 5` (cases-*,
population-*, checkups-*). Each round runs, one after the other: every job with --pearl (and with
--baseline, an earlier build, for before/after figures), then the references — the pandas version of
health.incidence from incidence_bench.py and statsmodels GLM(Binomial) on the checkups' complete rows
(health.outbreak's reference is R's earsC in its golden test, too slow to time here) — each under
/usr/bin/time -v: wall, user + sys CPU and peak RSS of the whole process tree (per rank, all ranks
summed for CPU). Outputs are compared with the references' (incidence: integers exactly, rates 1e-9;
risk model: estimates 1e-6 relative). The table shows the median of the rounds.

Environment: MPIEXEC (default mpiexec), MPIEXEC_FLAGS (e.g. --oversubscribe)."""
import argparse
import glob
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

STATSMODELS = r"""
import glob, sys, h5py, numpy as np, pandas as pd, statsmodels.api as sm
cols = ["diabetes", "age_years", "bmi", "systolic_bp", "smoker"]
parts = []
for p in sorted(glob.glob(sys.argv[1] + "/checkups-*.h5")):
    with h5py.File(p, "r") as f:
        t = f["checkups"]
        if isinstance(t, h5py.Dataset):
            d = t[:] if len(t) else np.zeros(0, dtype=t.dtype)
            parts.append(pd.DataFrame({c: d[c].astype(float) for c in cols}))
        else:
            parts.append(pd.DataFrame({c: t[c][:].astype(float) for c in cols}))
df = pd.concat(parts).dropna()
fit = sm.GLM(df["diabetes"], sm.add_constant(df[cols[1:]], has_constant="add"), family=sm.families.Binomial()).fit()
print("ESTIMATES", " ".join(repr(float(v)) for v in fit.params))
"""

INCIDENCE = r"""
import sys
sys.path.insert(0, sys.argv[2])
from incidence_bench import pandas_incidence
pandas_incidence(sys.argv[1]).to_pickle(sys.argv[3])
"""


def timed(cmd):
    """Runs cmd (each process under /usr/bin/time -v); returns wall, cpu, peak RSS per process, stdout."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    walls = [parse_wall(m) for m in re.findall(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr)]
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", r.stderr))
    rss = [int(k) / 1024 for k in re.findall(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)]
    return max(walls), cpu, rss, r.stdout


def parse_wall(text):
    s = 0.0
    for part in text.split(":"):
        s = s * 60 + float(part)
    return s


def pearl_cmd(pearl, ranks, job, inputs, out):
    args = ["/usr/bin/time", "-v", pearl, "run", job, *sum((["--input", i] for i in inputs), []),
            "--memory", "2GiB", "--output", out]
    if job == "health.incidence":
        args += ["--min-cell", "0"]
    if ranks == 1:
        return args
    return [os.environ.get("MPIEXEC", "mpiexec"), "-n", str(ranks),
            *shlex.split(os.environ.get("MPIEXEC_FLAGS", ""))] + args


def check_incidence(out, want_pickle):
    import pandas as pd
    want = pd.read_pickle(want_pickle)
    with h5py.File(out, "r") as f:
        g = f["incidence"]
        for c in ("region_code", "year", "cases", "population"):
            assert g[c][:].tolist() == want[c].tolist(), c
        assert g["disease"].asstr()[:].tolist() == want["disease"].tolist()
        for c in ("crude_rate", "asr", "asr_lower", "asr_upper"):
            np.testing.assert_allclose(g[c][:], want[c], rtol=1e-9, err_msg=c)


def check_risk(out, stdout):
    want = [float(v) for v in next(l for l in stdout.splitlines() if l.startswith("ESTIMATES")).split()[1:]]
    with h5py.File(out, "r") as f:
        np.testing.assert_allclose(f["coefficients"]["estimate"][:], want, rtol=1e-6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pearl", default="build/bin/pearl")
    ap.add_argument("--baseline", help="an earlier pearl binary, run the same way (before/after)")
    ap.add_argument("--data", default="/work/data/d4m/health")
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = args.data
    jobs = {"health.incidence": [f"cases={data}/cases-*.h5", f"population={data}/population-*.h5"],
            "health.outbreak": [f"cases={data}/cases-*.h5"],
            "health.risk_model": [f"checkups={data}/checkups-*.h5"]}
    builds = {"pearl": os.path.abspath(args.pearl)}
    if args.baseline:
        builds["baseline"] = os.path.abspath(args.baseline)
    runs = {}  # (what, job) -> [(wall, cpu, rss)]
    tmp = tempfile.mkdtemp(prefix="health-e2e-")
    for _ in range(args.repeat):
        for name, pearl in builds.items():
            for job, inputs in jobs.items():
                out = os.path.join(tmp, f"{name}-{job}.h5")
                if os.path.exists(out):
                    os.remove(out)
                wall, cpu, rss, _ = timed(pearl_cmd(pearl, args.ranks, job, inputs, out))
                runs.setdefault((name, job), []).append((wall, cpu, max(rss)))
        want = os.path.join(tmp, "incidence.pkl")
        wall, cpu, rss, _ = timed(["/usr/bin/time", "-v", "/usr/bin/python3", "-c", INCIDENCE, data, HERE, want])
        runs.setdefault(("reference", "health.incidence"), []).append((wall, cpu, max(rss)))
        check_incidence(os.path.join(tmp, "pearl-health.incidence.h5"), want)
        wall, cpu, rss, stdout = timed(["/usr/bin/time", "-v", "/usr/bin/python3", "-c", STATSMODELS, data])
        runs.setdefault(("reference", "health.risk_model"), []).append((wall, cpu, max(rss)))
        check_risk(os.path.join(tmp, "pearl-health.risk_model.h5"), stdout)
    print(f"{args.repeat} rounds, medians; pearl at {args.ranks} rank(s), --memory 2GiB; outputs agree")
    print(f"{'job':20} {'run':10} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13} {'ref/pearl CPU':>14}")
    for job in jobs:
        ref = runs.get(("reference", job))
        for name in ["reference", *builds]:
            if (name, job) not in runs:
                continue
            wall, cpu, rss = (statistics.median(x[i] for x in runs[(name, job)]) for i in range(3))
            ratio = f"{statistics.median(x[1] for x in ref) / cpu:.2f}" if ref and name != "reference" else ""
            print(f"{job:20} {name:10} {wall:8.2f} {cpu:8.2f} {rss:13.0f} {ratio:>14}")


if __name__ == "__main__":
    main()
