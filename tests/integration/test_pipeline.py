"""`pearl pipeline` end to end, without a scheduler (label e2e):

- nightly-health (slurm/pipelines) on data.generate output: `check` passes, `run` does every
  task, and every output equals the same job run by hand (`pearl run` with the same words);
- a second run skips everything (and `--dry-run` says there is nothing to run); touching a
  shard without changing its bytes changes nothing;
- a changed population shard reruns exactly incidence and what is downstream of it;
- a failing step: bad input (exit 2) is not retried, a failure (exit 1) is retried; its
  dependants are never started, independent steps still run, and `status` exits non-zero
  naming the step, its first error line and its log;
- `check` refuses a broken file with exit 2, naming file, line and step.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import pandas as pd

from pearl_testing import PEARL, builds_launcher_dir, change_first_population, pipeline_records, read_output

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEALTH = os.path.join(ROOT, "slurm", "pipelines", "nightly-health.pipeline")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


ENV = dict(os.environ)


def use_the_builds_launcher(work):
    """The local profile runs the first `mpirun` on PATH: make it the build's launcher."""
    ENV["PATH"] = builds_launcher_dir(work) + os.pathsep + os.environ["PATH"]


def pearl(*args, timeout=600):
    return subprocess.run([PEARL, *args], capture_output=True, text=True, timeout=timeout, env=ENV)


def last_run(out):
    runs = sorted(glob.glob(os.path.join(out, "runs", "*")))
    return runs[-1]


def tables(path):
    with h5py.File(path, "r") as f:
        return [t.decode() if isinstance(t, bytes) else t for t in f.attrs["tables"]]


def same_output(a, b, what):
    for t in tables(a):
        da, _ = read_output(a, t)
        db, _ = read_output(b, t)
        try:
            pd.testing.assert_frame_equal(da, db)
        except AssertionError as e:
            check(False, f"{what}: table {t} differs from the job run by hand: {e}")


def main():
    work = tempfile.mkdtemp(prefix="pearl-pipeline-")
    os.chdir(work)
    use_the_builds_launcher(work)
    data, out = os.path.join(work, "data"), os.path.join(work, "out")
    r = pearl("run", "data.generate", "--domain", "health", "--rows", "4000", "--shards", "3", "--seed", "7",
              "--out-dir", data)
    assert r.returncode == 0, r.stderr
    sets = ["--set", f"data={data}", "--set", f"out={out}", "--set", "ranks=1"]

    r = pearl("pipeline", "check", HEALTH, *sets)
    check(r.returncode == 0 and "5 steps, 7 tasks: ok" in r.stdout, f"check: {r.returncode} {r.stdout} {r.stderr}")

    # 1. everything runs; outputs equal the jobs run by hand
    r = pearl("pipeline", "run", HEALTH, *sets)
    check(r.returncode == 0, f"first run exit {r.returncode}: {r.stdout} {r.stderr}")
    first = pipeline_records(last_run(out))
    check(len(first) == 7 and all(s["state"] == "done" for s in first.values()),
          f"first run: not every task done: { {k: v['state'] for k, v in first.items()} }")
    hand = os.path.join(work, "hand")
    os.makedirs(hand)
    for label, rec in first.items():
        words = rec["command"].split(" ")
        words = words[words.index("run") + 1:]
        target = words[words.index("--output") + 1]
        mine = os.path.join(hand, os.path.basename(target))
        words[words.index("--output") + 1] = mine
        # the report reads the pipeline's alarms: the same file, already compared
        r = pearl("run", *words)
        check(r.returncode == 0, f"{label} by hand: {r.stderr}")
        if r.returncode == 0:
            same_output(target, mine, label)
    r = pearl("pipeline", "status", HEALTH, *sets)
    check(r.returncode == 0, f"status after a good run exits {r.returncode}: {r.stdout}")

    # 2. nothing changed: nothing runs
    r = pearl("pipeline", "run", HEALTH, *sets, "--dry-run")
    check("nothing to run" in r.stdout, f"dry run after a full run: {r.stdout}")
    mtimes = {p: os.stat(p).st_mtime_ns for p in glob.glob(os.path.join(out, "*.h5"))}
    r = pearl("pipeline", "run", HEALTH, *sets)
    again = pipeline_records(last_run(out))
    check(r.returncode == 0 and all(s["state"] == "skipped" for s in again.values()),
          f"second run did not skip everything: { {k: v['state'] for k, v in again.items()} }")
    check(mtimes == {p: os.stat(p).st_mtime_ns for p in mtimes}, "a skipped run rewrote an output")

    # 3. a touched shard with the same bytes is the same input
    os.utime(os.path.join(data, "cases-0001.h5"))
    r = pearl("pipeline", "run", HEALTH, *sets)
    touched = pipeline_records(last_run(out))
    check(all(s["state"] == "skipped" for s in touched.values()),
          f"touching a shard reran: { {k: v['state'] for k, v in touched.items()} }")

    # 4. changed data in the population shard: incidence and what follows it rerun, nothing else
    change_first_population(os.path.join(data, "population-0000.h5"))
    r = pearl("pipeline", "run", HEALTH, *sets, "--dry-run")
    check("changed (content checksum)" in r.stdout or "changed size" in r.stdout,
          f"dry run does not name the changed shard: {r.stdout}")
    r = pearl("pipeline", "run", HEALTH, *sets)
    changed = pipeline_records(last_run(out))
    ran = sorted(k for k, v in changed.items() if v["state"] == "done")
    skipped = sorted(k for k, v in changed.items() if v["state"] == "skipped")
    check(ran == ["incidence", "outbreak[city]", "outbreak[county]", "outbreak[province]", "report"],
          f"population change reran {ran}")
    check(skipped == ["aggregate", "ingest"], f"population change skipped {skipped}")

    # 5. failures
    bad = os.path.join(work, "failing.pipeline")
    with open(bad, "w") as f:
        f.write(f"""[variables]
out = {work}/fail
[step good]
job = table.aggregate
input = table={data}/cases-*.h5:/cases
options = --by disease
output = ${{out}}/good.h5
[step broken]
job = table.aggregate
input = table=${{out}}/good.h5:/aggregate
options = --by disease --sum no_such_column
output = ${{out}}/broken.h5
retries = 3
[step after_broken]
job = table.aggregate
input = table=${{out}}/broken.h5:/aggregate
options = --by disease
output = ${{out}}/after.h5
[step crashing]
job = demo.sum
options = --rows 1000 --fail-on-rank 0
retries = 1
[step independent]
job = table.aggregate
after = good
input = table={data}/cases-*.h5:/cases
options = --by sex
output = ${{out}}/independent.h5
""")
    os.makedirs(os.path.join(work, "fail"))
    r = pearl("pipeline", "run", bad)
    check(r.returncode == 1, f"a failing pipeline exits {r.returncode}")
    recs = pipeline_records(sorted(glob.glob(os.path.join(work, "runs", "failing", "*")))[-1])  # default runs/NAME
    check(recs["broken"]["state"] == "failed" and recs["broken"]["attempts"] == "1",
          f"exit 2 was retried or not failed: {recs['broken']}")
    check(recs["crashing"]["state"] == "failed" and recs["crashing"]["attempts"] == "2",
          f"exit 1 not retried once: {recs['crashing']}")
    check(recs["after_broken"]["state"] == "never started", f"dependant of a failure: {recs['after_broken']}")
    check(recs["independent"]["state"] == "done", f"independent step: {recs['independent']}")
    r = pearl("pipeline", "status", bad)
    check(r.returncode != 0, "status exits 0 after a failure")
    log = recs["broken"]["log"]
    check(re.search(r"^broken +failed", r.stdout, re.M) is not None and "no_such_column" in r.stdout and log in r.stdout,
          f"status does not name the failed step, its error and log:\n{r.stdout}")
    check(os.path.exists(log), "the failed step's log is missing")

    # 6. check refuses a broken file: exit 2, file, line, step
    with open(bad, "a") as f:
        f.write("[step typo]\njob = table.aggregate\ninput = table=${out}/good.h5:/aggregate\n"
                "options = --bye disease\noutput = ${out}/typo.h5\n")
    r = pearl("pipeline", "check", bad)
    check(r.returncode == 2 and f"{bad}:32: step 'typo': unknown option '--bye'" in r.stderr,
          f"check of a bad option: {r.returncode} {r.stderr}")

    if failures:
        print(f"{len(failures)} failures; work dir {work}")
        sys.exit(1)
    shutil.rmtree(work)
    print("ok")


main()
