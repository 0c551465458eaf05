#!/usr/bin/python3
"""bench/transport/cpu.py — CPU time and peak RSS of transport.od and transport.flow against
the golden tests' pandas references, on a loaded machine.

  cpu.py DIR [--pearl BIN ...] [--ranks 1] [--repeat 3] [--memory 2GiB]

DIR holds data.generate's transport shards (taps-*.h5, gps-*.h5), e.g.
`pearl run data.generate --domain transport --rows 4000000 --shards 4 --seed 5 --out-dir DIR`.
Each repetition runs, interleaved, the pandas reference of each job (od_reference and
flow_reference of jobs/transport/test_od.py and test_flow.py, reading with h5py, under
/usr/bin/python3) and every given pearl binary (e.g. a build before and after a change),
each under /usr/bin/time: CPU = user + sys of the process (all pearl ranks summed at more
than one rank, since mpirun's children are counted), peak RSS of the largest process. On a
machine shared with other work wall time mostly measures the others; CPU time does not.
The median per command is printed with the ratio pandas CPU / pearl CPU; the pearl results
are checked against the pandas ones (counts exactly, floats to 1e-9).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(ROOT, "tests", "support"), os.path.join(ROOT, "jobs", "transport")]

REFERENCE = """
import sys, numpy as np
sys.path[:0] = {path!r}
job, d, out = sys.argv[1:4]
if job == "od":
    import test_od as m
    od, q = m.od_reference(m.read_taps(d + "/taps-*.h5"))
    np.savez(out, **{{c: od[c].to_numpy() for c in od.columns}}, **{{"q_" + k: v for k, v in q.items()}})
else:
    import test_flow as m
    fl, _ = m.flow_reference(m.read_gps(d + "/gps-*.h5"))
    np.savez(out, **{{c: fl[c].to_numpy() for c in fl.columns}})
"""
INPUT = {"od": ("transport.od", "taps"), "flow": ("transport.flow", "gps")}


def timed(cmd, env=None):
    """(cpu seconds, wall seconds, peak RSS MiB) of `cmd` under /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        r = subprocess.run(["/usr/bin/time", "-f", "%U %S %e %M", "-o", t.name, *cmd], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
        user, sys_, wall, rss = t.read().split()[-4:]
        return float(user) + float(sys_), float(wall), int(rss) / 1024


def check(job, out_h5, ref_npz):
    import numpy as np
    from pearl_testing import read_output
    want = np.load(ref_npz)
    got = read_output(out_h5, "od" if job == "od" else "flow")[0]
    for c in got.columns:
        a, b = got[c].to_numpy(), want[c]
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-9, err_msg=f"{job} {c}")
        elif not np.array_equal(a, b):
            sys.exit(f"{job}: column {c} differs from pandas")
    if job == "od":
        q = read_output(out_h5, "quality")[0]
        for c in q.columns:
            if int(q[c][0]) != int(want["q_" + c]):
                sys.exit(f"od: quality {c} differs from pandas")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--pearl", action="append", default=[])
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory", default="2GiB")
    ap.add_argument("--mpirun", default="mpirun")
    a = ap.parse_args()
    pearls = a.pearl or [os.path.join(ROOT, "build", "bin", "pearl")]
    load = open("/proc/loadavg").read().split()[:3]
    print(f"bench/transport/cpu.py: {a.dir}, {a.ranks} rank(s), --memory {a.memory}, load {' '.join(load)}")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "reference.py")
        with open(script, "w") as f:
            f.write(REFERENCE.format(path=[os.path.join(ROOT, "tests", "support"), os.path.join(ROOT, "jobs", "transport")]))
        for _ in range(a.repeat):
            for job, (name, table) in INPUT.items():
                ref = os.path.join(tmp, f"{job}.npz")
                times.setdefault((job, "pandas"), []).append(timed(["/usr/bin/python3", script, job, a.dir, ref]))
                for i, binary in enumerate(pearls):
                    out = os.path.join(tmp, f"{job}-{i}.h5")
                    if os.path.exists(out):
                        os.remove(out)
                    launch = [a.mpirun, "-n", str(a.ranks), "--oversubscribe"] if a.ranks > 1 else []
                    cmd = [*launch, binary, "run", name, "--input", f"{table}={a.dir}/{table}-*.h5",
                           "--output", out, "--memory", a.memory]
                    times.setdefault((job, binary), []).append(timed(cmd, env))
                    check(job, out, ref)
    for job in INPUT:
        base = statistics.median(t[0] for t in times[(job, "pandas")])
        for who in ["pandas", *pearls]:
            runs = times[(job, who)]
            cpu = statistics.median(t[0] for t in runs)
            wall = statistics.median(t[1] for t in runs)
            rss = max(t[2] for t in runs)
            print(f"{job:5} {who:40} CPU {cpu:6.2f} s (runs {', '.join(f'{t[0]:.2f}' for t in runs)})  "
                  f"wall {wall:6.2f} s  peak RSS {rss:6.0f} MiB  pandas/this CPU {base / cpu:5.2f}x")


if __name__ == "__main__":
    main()
