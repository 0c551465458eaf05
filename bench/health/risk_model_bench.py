#!/usr/bin/python3
"""bench/health/risk_model_bench.py — time per IRLS iteration of health.risk_model on N rows
(default 10 million) against statsmodels GLM(Binomial) on the same rows.

    /usr/bin/python3 bench/health/risk_model_bench.py --pearl build/bin/pearl --rows 10000000 \
        --data /tmp/health-risk-bench [--ranks 2]

The rows follow the data generator's checkups model (docs/data-generator.md), simulated with
numpy and written as 8 columnar shards (done once per --rows). pearl prints its own time per
iteration (the loop only: one pass over the in-memory rows plus one allreduce and a p x p
solve); it is also derived as (T(full) - T(--max-iter 1)) / (iterations - 1) from wall times.
statsmodels: time of fit() divided by its iteration count, and the same difference method
(fit(maxiter=1)). Peak RSS: /usr/bin/time -v per pearl rank; ru_maxrss of this process for
statsmodels. Estimates of both are compared (1e-6 relative).

Environment: MPIEXEC (default mpiexec), MPIEXEC_FLAGS."""
import argparse
import os
import re
import resource
import shlex
import subprocess
import sys
import time

import h5py
import numpy as np
import pandas as pd
import statsmodels.api as sm

COVARIATES = ["age_years", "bmi", "systolic_bp", "smoker"]


def mpiexec(ranks, args):
    return [os.environ.get("MPIEXEC", "mpiexec"), "-n", str(ranks),
            *shlex.split(os.environ.get("MPIEXEC_FLAGS", ""))] + args


def simulate(rng, n):
    age = rng.integers(20, 91, n)
    male = rng.random(n) < 0.5
    bmi = np.round(np.clip(rng.normal(23.5 + 0.02 * (age - 40) + np.where(male, 0.4, -0.3), 3.3), 15, 45), 1)
    sbp = np.round(np.clip(rng.normal(110 + 0.5 * (age - 20) + 0.8 * (bmi - 23), 12), 85, 220))
    smoker = (rng.random(n) < np.where(male, 0.5, 0.03)).astype(np.uint8)
    eta = -9.0 + 0.045 * age + 0.12 * bmi + 0.015 * sbp + 0.35 * smoker
    diabetes = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.uint8)
    return {"age_years": age.astype(np.uint8), "bmi": bmi.astype(np.float32), "systolic_bp": sbp.astype(np.float32),
            "smoker": smoker, "diabetes": diabetes}


def run_pearl(pearl, ranks, data, max_iter):
    out = os.path.join(data, f"risk-{max_iter}.h5")
    if os.path.exists(out):
        os.remove(out)
    cmd = mpiexec(ranks, ["/usr/bin/time", "-v", pearl, "run", "health.risk_model", "--input",
                          f"checkups={data}/checkups-*.h5", "--max-iter", str(max_iter), "--output", out])
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t
    if r.returncode != 0:
        sys.exit(r.stderr)
    rss = [int(m) / 1024 for m in re.findall(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)]
    m = re.search(r"(\d+) iterations.*?([0-9.]+) ms per iteration", r.stdout)
    with h5py.File(out, "r") as f:
        est = f["coefficients"]["estimate"][:]
    return " ".join(cmd), wall, int(m.group(1)), float(m.group(2)), rss, est


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pearl", default="build/bin/pearl")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--data", default="/tmp/health-risk-bench")
    args = ap.parse_args()
    pearl = os.path.abspath(args.pearl)
    os.makedirs(args.data, exist_ok=True)
    stamp = os.path.join(args.data, f".rows-{args.rows}")
    if not os.path.exists(stamp):
        rng = np.random.default_rng(5)
        for k in range(8):
            cols = simulate(rng, args.rows // 8 + (1 if k < args.rows % 8 else 0))
            with h5py.File(os.path.join(args.data, f"checkups-{k:04d}.h5"), "w") as f:
                g = f.create_group("checkups")
                for c, v in cols.items():
                    g.create_dataset(c, data=v)
        open(stamp, "w").close()

    cmd, wall_full, iters, per_iter, rss, est = run_pearl(pearl, args.ranks, args.data, 25)
    _, wall_one, _, _, _, _ = run_pearl(pearl, args.ranks, args.data, 1)
    print("$", cmd)
    print(f"pearl x{args.ranks}: {iters} iterations, {per_iter:.1f} ms per iteration (in-job clock); "
          f"wall {wall_full:.2f} s full, {wall_one:.2f} s with --max-iter 1 -> "
          f"{(wall_full - wall_one) / (iters - 1) * 1000:.1f} ms per extra iteration; "
          f"peak RSS per rank " + ", ".join(f"{x:.0f} MiB" for x in rss))

    frames = []
    for k in range(8):
        with h5py.File(os.path.join(args.data, f"checkups-{k:04d}.h5"), "r") as f:
            frames.append(pd.DataFrame({c: f["checkups"][c][:] for c in COVARIATES + ["diabetes"]}))
    df = pd.concat(frames, ignore_index=True)
    x = sm.add_constant(df[COVARIATES].astype(float))
    y = df["diabetes"].astype(float)
    t = time.time()
    fit = sm.GLM(y, x, family=sm.families.Binomial()).fit(tol=1e-8)
    sm_full = time.time() - t
    sm_iters = int(fit.fit_history["iteration"])
    t = time.time()
    sm.GLM(y, x, family=sm.families.Binomial()).fit(maxiter=1)
    sm_one = time.time() - t
    rss_sm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"statsmodels GLM(Binomial): {sm_iters} iterations in {sm_full:.2f} s = {sm_full / sm_iters * 1000:.0f} ms "
          f"per iteration; {(sm_full - sm_one) / max(1, sm_iters - 1) * 1000:.0f} ms per extra iteration; "
          f"peak RSS {rss_sm:.0f} MiB")
    np.testing.assert_allclose(est, fit.params.to_numpy(), rtol=1e-6)
    print(f"estimates agree; ratio statsmodels / pearl per iteration = {sm_full / sm_iters * 1000 / per_iter:.1f} "
          f"(in-job clock), {((sm_full - sm_one) / max(1, sm_iters - 1)) / ((wall_full - wall_one) / (iters - 1)):.1f} "
          f"(difference method)")


if __name__ == "__main__":
    main()
