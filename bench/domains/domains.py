#!/usr/bin/python3
"""bench/domains/domains.py — every built-in domain job against its golden test's reference
(pandas, statsmodels; R surveillance for health.outbreak) on the same generated data. Run it
through bench/domains/run.sh, which passes its options here:

  --rows N (4000000) --shards N (4) --seed N (5)   data.generate's size, for each domain
  --data DIR        use DIR/{health,social,transport} as they are (generated elsewhere with
                    data.generate; nothing is written there) instead of generating
  --work DIR        where generated data (reused while --rows/--shards/--seed are the same)
                    and outputs go (default $BENCH_DIR or /tmp/pearl-bench-domains)
  --ranks 1,2       pearl's rank counts      --memory 2GiB   pearl's --memory per rank
  --threads 1       pearl's --threads        --jobs a,b      some of the jobs (default all)
  --repeat N (1)    runs of each, interleaved (pearl at each rank count, then the reference,
                    job after job); the table shows the best wall time and the highest RSS
  --check-targets   exit 1 also when reference/pearl (whole processes) misses 10x at 2
                    ranks or 5x at 1 rank
  --checksum-cache warm|off (warm)  pearl's input checksum cache (docs/pipelines.md), kept
                    in WORK/checksum-cache: warm fills it first for inputs it does not know
                    (an untimed run of the job), as a second run over the same data finds
                    it; off: every run reads all its inputs again for their checksums

Exits 1 when a pearl run fails or a result differs from the reference (compared as the
golden test compares), 2 on bad usage. Environment: PEARL (default build/bin/pearl under the
source tree), MPIRUN (default mpirun), MPIRUN_FLAGS, PEARL_1RANK_MPIRUN (set: run 1 rank
under the launcher too; default: the program alone, as the contract allows).

Wall times, two ways. "Whole": each side as a process a user starts: pearl's whole command
(launcher, MPI start-up, reading, computing and writing), and the reference's process from its
start until its result is computed (interpreter, imports of numpy, pandas, h5py and what the
reference uses, reading the columns with h5py, computing; its comparison with pearl's output
is not counted). "Work": neither side's start-up: the reference's reading and computing
in-process, and pearl's run as it measures itself (the slowest rank's wall_seconds in the
run's metrics: from after MPI start-up to the output written). The targets are checked on
the whole times. Peak RSS: each pearl rank's VmHWM from the run's metrics
(OUT.metrics.json, per_rank[].peak_rss_bytes); the reference process's VmHWM.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from references import INPUTS  # noqa: E402  (the job list and what each job reads)

TARGETS = {1: 5.0, 2: 10.0}  # pandas / pearl wall time, issue 21


def parse_args():
    p = argparse.ArgumentParser(prog="bench/domains/run.sh", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=4_000_000)
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--data")
    p.add_argument("--work", default=os.environ.get("BENCH_DIR", "/tmp/pearl-bench-domains"))
    p.add_argument("--ranks", default="1,2")
    p.add_argument("--memory", default="2GiB")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--jobs", default=",".join(INPUTS))
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--check-targets", action="store_true")
    p.add_argument("--checksum-cache", choices=("warm", "off"), default="warm")
    a = p.parse_args()
    a.ranks = [int(r) for r in a.ranks.split(",")]
    a.jobs = a.jobs.split(",")
    unknown = [j for j in a.jobs if j not in INPUTS]
    if unknown or a.repeat < 1 or min(a.ranks) < 1:
        p.error(f"unknown job(s) {', '.join(unknown)} (known: {', '.join(INPUTS)})" if unknown else
                "--repeat and --ranks must be at least 1")
    return a


def machine_load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def sh(cmd, env):
    """Runs cmd; returns (seconds, completed process)."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - t0, r


def warm(paths):
    """Reads the files once so that every timed run starts with them in the page cache."""
    for path in paths:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass


def prepare_data(a, domains, pearl, launcher, env):
    """DIR holding a folder per domain: --data as given, or generated (once per parameters)."""
    if a.data:
        for d in domains:
            if not glob.glob(os.path.join(a.data, d, "*.h5")):
                sys.exit(f"bench/domains: no {d} shards in {a.data}/{d}")
        return a.data
    params = f"data.generate --rows {a.rows} --shards {a.shards} --seed {a.seed}"
    data = os.path.join(a.work, f"data-{a.rows}-{a.shards}-{a.seed}")
    for d in domains:
        stamp = os.path.join(data, d, ".generated")
        if os.path.exists(stamp) and open(stamp).read() == params:
            continue
        shutil.rmtree(os.path.join(data, d), ignore_errors=True)
        print(f"... generating {d}: {params}", file=sys.stderr, flush=True)
        cmd = launcher(2) + [pearl, "run", "data.generate", "--domain", d, "--rows", str(a.rows), "--shards",
                             str(a.shards), "--seed", str(a.seed), "--out-dir", os.path.join(data, d)]
        _, r = sh(cmd, env)
        if r.returncode != 0:
            sys.exit(f"bench/domains: data.generate failed:\n{r.stderr}")
        with open(stamp, "w") as f:
            f.write(params)
    return data


def cache_knows(cache, files):
    """Whether pearl's checksum cache in `cache` has an entry for each file as it is now
    (io/src/checksum_cache.cpp: a file <device>-<inode> holding its size and times)."""
    for f in files:
        st = os.stat(f)
        try:
            with open(os.path.join(cache, f"{st.st_dev}-{st.st_ino}")) as e:
                fields = e.read().split()
        except OSError:
            return False
        if fields[2:5] != [str(st.st_size), str(st.st_mtime_ns), str(st.st_ctime_ns)]:
            return False
    return True


def run_pearl(a, job, ranks, data, pearl, launcher, env, outdir):
    """One pearl run: (whole s, work s, [peak RSS per rank], output path, error or None)."""
    out = os.path.join(outdir, f"{job}-{ranks}.h5")
    metrics = os.path.join(outdir, f"{job}-{ranks}.metrics.json")
    for f in (out, metrics):
        if os.path.exists(f):
            os.remove(f)
    inputs = [x for name, where in INPUTS[job].items() for x in ("--input", f"{name}={data}/{where}-*.h5")]
    cmd = [pearl, "run", job, *inputs, "--output", out, "--memory", a.memory, "--threads", str(a.threads)]
    if ranks > 1 or os.environ.get("PEARL_1RANK_MPIRUN"):
        cmd = launcher(ranks) + cmd
    wall, r = sh(cmd, env)
    if r.returncode != 0:
        return wall, wall, [], out, f"exit {r.returncode}: {r.stderr.strip()[-1500:]}"
    with open(metrics) as f:
        ranks = json.load(f)["per_rank"]
    work = max(float(p["wall_seconds"]) for p in ranks)
    return wall, work, [int(p["peak_rss_bytes"]) for p in ranks], out, None


def run_reference(job, data, outputs, env):
    """The reference in its own process: its JSON line (wall_s, peak_rss, checks)."""
    env = dict(env, PEARL_BENCH_SPAWNED=repr(time.time()))  # the reference reports its start-up from here
    _, r = sh([sys.executable, os.path.join(HERE, "references.py"), job, data, *outputs], env)
    if r.returncode != 0:
        sys.exit(f"bench/domains: the reference of {job} failed:\n{r.stdout}\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def mib(b):
    return f"{b / 2**20:.0f}"


def print_table(a, res):
    """The table: per job the reference's and pearl's whole and work seconds, peak RSS, and
    the ratios reference / pearl (whole, against the targets; work beside). Returns the misses."""
    head = f"{'job':20s} {'ref whole':>9s} {'work':>6s} {'RSS MiB':>8s}"
    for n in a.ranks:
        head += f" | {f'pearl {n}r whole':>14s} {'work':>6s} {'RSS MiB/rank':>13s}"
    for n in a.ranks:
        head += f" | {f'ref/{n}r':>7s}" + (f" {f'(>={TARGETS[n]:.0f})':6s}" if n in TARGETS else "") + f" {'work':>6s}"
    print(head + " | results")
    misses = 0
    for job in a.jobs:
        r = res[job]
        ref = r["ref"]
        line = f"{job:20s} {ref['whole']:9.2f} {ref['wall_s']:6.2f} {mib(ref['peak_rss']):>8s}"
        for n in a.ranks:
            p = r[n]
            line += f" | {p['whole']:14.2f} {p['work']:6.2f} {'/'.join(mib(x) for x in p['rss']) or '-':>13s}"
        for n in a.ranks:
            ratio = ref["whole"] / r[n]["whole"]
            line += f" | {ratio:7.2f}"
            if n in TARGETS:
                ok = ratio >= TARGETS[n]
                misses += not ok
                line += f" {'ok' if ok else 'MISS':6s}"
            line += f" {ref['wall_s'] / r[n]['work']:6.2f}"
        line += " | " + ("equal" if not r["errors"] else "DIFFER" if not r["failed"] else "FAILED")
        print(line)
    return misses


def main():
    a = parse_args()
    pearl = os.environ.get("PEARL", os.path.join(ROOT, "build", "bin", "pearl"))
    if not os.access(pearl, os.X_OK):
        sys.exit(f"bench/domains: {pearl} is not built (set PEARL)")
    mpirun = os.environ.get("MPIRUN", "mpirun").split() + os.environ.get("MPIRUN_FLAGS", "").split()
    launcher = lambda n: mpirun + ["-np", str(n)]  # noqa: E731
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMPI_MCA_pml", "ob1")  # one node: skip Open MPI's probe for network fabrics (bench/io.py)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.join(ROOT, "tests", "support"),
                                                      env.get("PYTHONPATH")]))
    load_start = machine_load()
    print(f"# bench/domains: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.uname().nodename}, "
          f"nproc {os.cpu_count()}, load average {load_start}")
    domains = sorted({w.split("/")[0] for j in a.jobs for w in INPUTS[j].values()})
    data = prepare_data(a, domains, pearl, launcher, env)
    outdir = os.path.join(a.work, "out")
    os.makedirs(outdir, exist_ok=True)
    print(f"# data {data}; pearl {pearl} --memory {a.memory} --threads {a.threads}; best of {a.repeat}")

    cache = os.path.join(a.work, "checksum-cache")
    env["PEARL_CHECKSUM_CACHE"] = cache if a.checksum_cache == "warm" else "off"
    print(f"# pearl's input checksum cache: {a.checksum_cache}" + (f" ({cache})" if a.checksum_cache == "warm" else ""))
    res = {j: {"errors": [], "failed": False} for j in a.jobs}
    for job in a.jobs if a.checksum_cache == "warm" else []:
        files = [f for w in INPUTS[job].values() for f in sorted(glob.glob(f"{data}/{w}-*.h5"))]
        if not cache_knows(cache, files):
            # pearl remembers no file changed in the last 2 s (just generated data)
            time.sleep(max(0.0, max(os.stat(f).st_ctime for f in files) + 2.5 - time.time()))
            print(f"... {job}, pearl at 1 rank, untimed: filling the checksum cache", file=sys.stderr, flush=True)
            run_pearl(a, job, 1, data, pearl, launcher, env, outdir)
    for _ in range(a.repeat):
        for job in a.jobs:
            files = [f for w in INPUTS[job].values() for f in sorted(glob.glob(f"{data}/{w}-*.h5"))]
            r = res[job]
            outs = []
            for n in a.ranks:
                print(f"... {job}, pearl at {n} rank(s)", file=sys.stderr, flush=True)
                warm(files)
                whole, work, rss, out, error = run_pearl(a, job, n, data, pearl, launcher, env, outdir)
                p = r.setdefault(n, {"whole": float("inf"), "work": float("inf"), "rss": []})
                p["whole"], p["work"] = min(p["whole"], whole), min(p["work"], work)
                p["rss"] = [max(x, y) for x, y in zip(p["rss"], rss)] if p["rss"] else rss
                if error:
                    r["errors"].append(f"pearl at {n} rank(s) failed: {error}")
                    r["failed"] = True
                else:
                    outs.append(out)
            print(f"... {job}, reference", file=sys.stderr, flush=True)
            warm(files)
            ref = run_reference(job, data, outs, env)
            ref["whole"] = ref["startup_s"] + ref["wall_s"]
            old = r.get("ref")
            if old is not None:  # the best of each time, the highest RSS
                for k in ("whole", "wall_s"):
                    ref[k] = min(ref[k], old[k])
                ref["peak_rss"] = max(ref["peak_rss"], old["peak_rss"])
            r["ref"] = ref
            r["errors"] += [f"{os.path.basename(o)}: {msg}" for o, msg in ref["checks"].items() if msg != "ok"]

    print()
    misses = print_table(a, res)
    print(f"# whole s: each side as a process, best of {a.repeat}: pearl's whole command (launcher and MPI "
          "start-up included); the reference's process from its start to its result (interpreter and imports "
          "included).\n# work s: without start-up: the reference's reading and computing in-process; pearl's "
          "slowest rank from after MPI start-up to the output written (its metrics).\n# RSS: peak (VmHWM) of each "
          "pearl rank and of the reference's process (interpreter included), highest of the runs.\n# ref/Nr: "
          "reference / pearl at N ranks, whole (against issue 21's targets), then work.\n"
          f"# load average: {load_start} at the start, {machine_load()} at the end")
    status = 0
    for job in a.jobs:
        for e in res[job]["errors"]:
            print(f"\n{job}: {e}")
            status = 1
    if a.check_targets and misses:
        print(f"\n{misses} ratio(s) below target")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
