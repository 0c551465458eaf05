"""`pearl pipeline submit` and `schedule` on the local Slurm cluster (label slurm: run after
`scripts/slurm-local up`; SLURM_CONF from the environment, else scripts/slurm-local's place):

- submit --wait of the shipped nightly-health pipeline on generated data: every task done,
  every output equal to the same job run by hand, the fan-out step one job array of 3
  tasks with 3 outputs;
- resubmitting the finished pipeline submits nothing and says so (the queue stays empty);
  after a change in a population shard, exactly the steps downstream of it are submitted
  again (new job ids) and the others are skipped;
- a failing step: its dependant is never started, `status` exits non-zero naming it and its log;
- schedule --at a minute ahead: the pipeline runs, and the next day's schedule job is pending;
  unschedule removes it;
- a step whose work outlasts its time limit (3 minutes): warned, checkpointed, requeued and
  resumed; its dependant then runs and the pipeline completes with the output of the same
  job run by hand (the checkpoint's test hold makes the work long on the first attempt only);
  a step whose first attempt fails (a rank killed while writing) is retried in place by its
  batch script (`retries = 1`) and succeeds.
"""
import datetime
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import pandas as pd

from pearl_testing import PEARL, change_first_population, pipeline_records, read_output

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEALTH = os.path.join(ROOT, "slurm", "pipelines", "nightly-health.pipeline")
SLURM_CONF = os.environ.get("SLURM_CONF", "/tmp/pearl-slurm-local/slurm.conf")
ENV = dict(os.environ, SLURM_CONF=SLURM_CONF)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def pearl(*args, timeout=600):
    return subprocess.run([PEARL, *args], capture_output=True, text=True, timeout=timeout, env=ENV)


def squeue(*fmt):
    r = subprocess.run(["squeue", "-h", *fmt], capture_output=True, text=True, env=ENV, timeout=30)
    assert r.returncode == 0, "squeue failed (is scripts/slurm-local up?): " + r.stderr
    return r.stdout.strip()


def newest_run(runs):
    found = sorted(glob.glob(os.path.join(runs, "*", "run.txt")))
    return os.path.dirname(found[-1]) if found else None


PIPELINE = """[pipeline]
name = {name}
runs = {work}/runs-{name}
[variables]
data = {work}/data
out = {work}/out-{name}
[defaults]
tasks = 1
# longer than the profile's warning signal (300 s before the limit), or the job would be
# told to checkpoint as it starts
time = 00:15:00
[step ingest]
job = table.aggregate
input = table=${{data}}/cases-*.h5:/cases
options = --by region_code,disease,onset_day
output = ${{out}}/daily.h5
[step levels]
job = health.outbreak
after = ingest
for_each = level: county city province
input = cases=${{data}}/cases-*.h5
options = --by region,disease --region-level ${{level}}
output = ${{out}}/alarms-${{level}}.h5
[step report]
job = table.aggregate
input = table=${{out}}/alarms-city.h5:/alarms
options = --by disease --sum alarm {report_extra}
output = ${{out}}/report.h5
"""


def write_pipeline(work, name, report_extra=""):
    path = os.path.join(work, name + ".pipeline")
    with open(path, "w") as f:
        f.write(PIPELINE.format(work=work, name=name, report_extra=report_extra))
    return path


def same_as_by_hand(label, target, mine, words):
    """Runs `pearl run WORDS` (its --output: `mine`) and checks every table equals `target`'s."""
    h = pearl("run", *words)
    check(h.returncode == 0, f"{label} by hand: {h.stderr}")
    if h.returncode != 0 or not os.path.exists(target):
        check(os.path.exists(target), f"{label}: no output {target}")
        return
    with h5py.File(target, "r") as f:
        names = [t.decode() if isinstance(t, bytes) else t for t in f.attrs["tables"]]
    for t in names:
        try:
            pd.testing.assert_frame_equal(read_output(target, t)[0], read_output(mine, t)[0])
        except AssertionError as e:
            check(False, f"{label}: {t} differs from the job run by hand: {e}")


HOLD = "PEARL_TEST_HOLD_AFTER_CHECKPOINT"
LIMITED_OPTIONS = "--memory 4MiB --checkpoint-every 0"
KILL = "PEARL_TEST_KILL_AT"  # rank 0 of step flaky's first attempt dies writing its output
FLAKY_OPTIONS = "--by disease --mean age_years"


def start_time_limited_pipeline(work):
    """Submits pipeline `limited` (with --wait, in the background: its step `slow` waits
    for Slurm's warning, 60 s before its 3-minute limit, while the other parts run). The
    step holds after its first checkpoint until the warning stops it; the profile's setup
    line drops the hold for every other job and for the requeued attempt."""
    profile = os.path.join(work, "limited-profile")
    with open(profile, "w") as f:
        f.write("base = slurm\nsignal-seconds = 60\n")
        for variable, step in ((HOLD, "slow"), (KILL, "flaky")):
            f.write(f'setup = if [ "${{SLURM_RESTART_COUNT:-0}}" -gt 0 ] || [ "${{SLURM_JOB_NAME:-}}" != limited.{step} ]; '
                    f"then unset {variable}; fi\n")
    path = os.path.join(work, "limited.pipeline")
    with open(path, "w") as f:
        f.write(f"[pipeline]\nname = limited\nruns = {work}/runs-limited\n[defaults]\ntasks = 1\ntime = 00:15:00\n"
                f"[step slow]\njob = health.outbreak\ninput = cases={work}/data/cases-*.h5\n"
                f"options = {LIMITED_OPTIONS}\noutput = {work}/out-limited/alarms.h5\ntime = 3\n"
                f"[step after]\njob = table.aggregate\nafter = slow\ninput = table={work}/out-limited/alarms.h5:/alarms\n"
                f"options = --by disease --sum alarm\noutput = {work}/out-limited/report.h5\n"
                f"[step flaky]\njob = table.aggregate\ninput = table={work}/data/cases-*.h5:/cases\n"
                f"options = {FLAKY_OPTIONS}\noutput = {work}/out-limited/flaky.h5\nretries = 1\n")
    return subprocess.Popen([PEARL, "pipeline", "submit", path, "--profile", profile, "--wait"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(ENV, **{HOLD: "600", KILL: "write:0"}))


def check_time_limited_pipeline(work, submitted):
    """The step was warned, checkpointed, requeued and resumed; its dependant ran; the
    output equals the job run by hand."""
    out, err = submitted.communicate(timeout=600)
    check(submitted.returncode == 0, f"time-limited pipeline: exit {submitted.returncode}: {out} {err}")
    recs = pipeline_records(newest_run(os.path.join(work, "runs-limited")))
    check({k: v["state"] for k, v in recs.items()} == {"slow": "done", "after": "done", "flaky": "done"},
          f"time-limited pipeline states: { {k: v['state'] for k, v in recs.items()} }")
    if "slow" in recs and os.path.exists(recs["slow"]["log"]):
        log = open(recs["slow"]["log"]).read()
        for line in ["got SIGUSR1", "pearl exited with 75: checkpointed before the time limit", "requeueing job",
                     "pearl exited with 0: success"]:
            check(line in log, f"the slow step's log lacks {line!r}:\n{log}")
        check(re.search(r"resume: \d+ operations restored", log), f"the resumed run did not say what it skipped:\n{log}")
    if "flaky" in recs and os.path.exists(recs["flaky"]["log"]):
        log = open(recs["flaky"]["log"]).read()
        for line in ["retrying job", "after the failure (retry 1 of 1)", "pearl exited with 0: success"]:
            check(line in log, f"the flaky step's log lacks {line!r}:\n{log}")
    hand = os.path.join(work, "hand-flaky.h5")
    same_as_by_hand("flaky", f"{work}/out-limited/flaky.h5", hand,
                    ["table.aggregate", "--input", f"table={work}/data/cases-*.h5:/cases", *FLAKY_OPTIONS.split(),
                     "--output", hand])
    hand = os.path.join(work, "hand-limited.h5")
    same_as_by_hand("slow", f"{work}/out-limited/alarms.h5", hand,
                    ["health.outbreak", "--input", f"cases={work}/data/cases-*.h5", *LIMITED_OPTIONS.split(),
                     "--output", hand])


def main():
    work = tempfile.mkdtemp(prefix="pearl-pipeline-slurm-", dir=os.environ.get("PEARL_SLURM_WORK", "/tmp"))
    os.chmod(work, 0o755)
    os.chdir(work)
    r = pearl("run", "data.generate", "--domain", "health", "--rows", "3000", "--shards", "3", "--seed", "3",
              "--out-dir", os.path.join(work, "data"))
    assert r.returncode == 0, r.stderr

    limited = start_time_limited_pipeline(work)

    # 1. submit --wait: the shipped nightly-health pipeline
    sets = ["--set", f"data={work}/data", "--set", f"out={work}/out-health", "--set", "ranks=1"]
    health_runs = os.path.join(work, "out-health", "runs")
    r = pearl("pipeline", "submit", HEALTH, *sets, "--profile", "slurm", "--wait")
    check(r.returncode == 0, f"submit --wait exit {r.returncode}: {r.stdout} {r.stderr}")
    recs = pipeline_records(newest_run(health_runs))
    check(len(recs) == 7 and all(v["state"] == "done" for v in recs.values()),
          f"not every task done: { {k: v['state'] for k, v in recs.items()} }")
    array_ids = {recs[f"outbreak[{lv}]"]["job_id"] for lv in ("county", "city", "province") if f"outbreak[{lv}]" in recs}
    bases = {i.split("_")[0] for i in array_ids}
    check(len(array_ids) == 3 and len(bases) == 1, f"the fan-out is not one job array of 3 tasks: {array_ids}")
    outs = sorted(glob.glob(os.path.join(work, "out-health", "alarms-*.h5")))
    check(len(outs) == 3, f"fan-out outputs: {outs}")
    for label, rec in recs.items():
        words = rec["command"].split(" ")[2:]  # after "pearl run"
        target = words[words.index("--output") + 1]
        mine = os.path.join(work, "hand-" + os.path.basename(target))
        words[words.index("--output") + 1] = mine
        same_as_by_hand(label, target, mine, words)

    # 2. resubmit: nothing
    before = newest_run(health_runs)
    r = pearl("pipeline", "submit", HEALTH, *sets, "--profile", "slurm")
    check(r.returncode == 0 and "nothing submitted" in r.stdout, f"resubmit: {r.stdout} {r.stderr}")
    check(newest_run(health_runs) == before, "resubmitting made a new run")
    mine = [n for n in squeue("-o", "%j").split() if n.startswith("nightly-health.")]  # other tests may share the cluster
    check(not mine, f"resubmitting queued jobs: {mine}")

    # 2b. changed data in the population shard: exactly incidence and what follows it are
    # submitted again (new job ids); ingest and aggregate are skipped
    change_first_population(os.path.join(work, "data", "population-0000.h5"))
    r = pearl("pipeline", "submit", HEALTH, *sets, "--profile", "slurm", "--wait")
    check(r.returncode == 0, f"submit after a changed shard: {r.stdout} {r.stderr}")
    changed = pipeline_records(newest_run(health_runs))
    ran = sorted(k for k, v in changed.items() if v["state"] == "done")
    skipped = sorted(k for k, v in changed.items() if v["state"] == "skipped")
    check(ran == ["incidence", "outbreak[city]", "outbreak[county]", "outbreak[province]", "report"],
          f"population change reran {ran}")
    check(skipped == ["aggregate", "ingest"], f"population change skipped {skipped}")
    rerun_ids = {changed[k]["job_id"] for k in ran}
    check(not rerun_ids & {recs[k]["job_id"] for k in recs}, f"rerun tasks kept old job ids: {rerun_ids}")

    # 3. a failing step (exit 2: a column that does not exist), its dependant never started
    bad = write_pipeline(work, "bad", report_extra="--max no_such_column")
    with open(bad, "a") as f:
        f.write("[step after_report]\njob = table.aggregate\ninput = table=${out}/report.h5:/aggregate\n"
                "options = --by disease\noutput = ${out}/after.h5\n")
    r = pearl("pipeline", "submit", bad, "--profile", "slurm", "--wait")
    check(r.returncode == 1, f"a failing pipeline's submit --wait exits {r.returncode}: {r.stdout} {r.stderr}")
    run_dir = newest_run(os.path.join(work, "runs-bad"))
    assert run_dir, "no run directory for the failing pipeline"
    recs = pipeline_records(run_dir)
    check(recs.get("report", {}).get("state") == "failed", f"report: {recs.get('report')}")
    check(recs.get("after_report", {}).get("state") == "never started", f"after_report: {recs.get('after_report')}")
    s = pearl("pipeline", "status", bad)
    check(s.returncode != 0 and "report" in s.stdout and "no_such_column" in s.stdout and recs["report"]["log"] in s.stdout,
          f"status after the failure:\n{s.stdout}")

    # 4. schedule a minute ahead
    sched = write_pipeline(work, "sched")
    at = (datetime.datetime.now() + datetime.timedelta(minutes=1)).strftime("%H:%M")
    r = pearl("pipeline", "schedule", sched, "--at", at, "--profile", "slurm")
    check(r.returncode == 0, f"schedule: {r.stdout} {r.stderr}")
    deadline = time.time() + 300
    while time.time() < deadline:
        run = newest_run(os.path.join(work, "runs-sched"))
        done = run and len(pipeline_records(run)) == 5 and all(v["state"] in ("pending", "done") for v in pipeline_records(run).values()) \
            and "sched." not in squeue("-o", "%j")
        if done and os.path.exists(os.path.join(work, "out-sched", "report.h5")):
            break
        time.sleep(5)
    check(os.path.exists(os.path.join(work, "out-sched", "report.h5")), "the scheduled pipeline did not run")
    pending = squeue("-o", "%j %T %S")
    check("pearl-schedule-sched PENDING" in pending, f"no next-day schedule job pending: {pending!r}")
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    check(tomorrow in pending, f"the next schedule job does not begin tomorrow: {pending!r}")
    r = pearl("pipeline", "unschedule", sched, "--profile", "slurm")
    check(r.returncode == 0, f"unschedule: {r.stderr}")
    time.sleep(2)
    check("pearl-schedule-sched" not in squeue("-o", "%j"), "unschedule left the schedule job")

    # 5. a step stopped by its time limit (submitted at the start)
    check_time_limited_pipeline(work, limited)

    if failures:
        print(f"{len(failures)} failures; work dir {work}")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("ok")


main()
