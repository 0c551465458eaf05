#!/usr/bin/python3
"""bench/domains/references.py — the golden tests' reference implementations of the domain
jobs, run on data.generate's shards, and the golden tests' own comparison of a pearl output
with a reference's result. domains.py (run.sh) starts this once per reference run:

    references.py JOB DATA_DIR [PEARL_OUTPUT.h5...]

DATA_DIR holds health/, social/ and transport/ as data.generate writes them. Prints one JSON
line: wall_s (reading the columns the reference uses with h5py, and the reference itself;
the interpreter's start-up and imports excluded), startup_s (from the moment the caller
started this process, given as PEARL_BENCH_SPAWNED in time.time() seconds, until the imports
the reference needs are done: the interpreter, numpy, pandas, h5py and the golden test's
module with what it imports, e.g. statsmodels; absent without that variable), peak_rss (VmHWM of this process when the
reference is done, before any comparison), rows (of the result), and checks: for each output
"ok" or the comparison's error message.

Nothing here computes a result: each JOBS entry reads the columns its reference reads, calls
the reference imported from the golden test (jobs/**/test_*.py), and compares as that test
does. Where a test's check() recomputes the reference itself, the reference is replaced for
that call (unittest.mock) by the result already computed, so the check is the test's own
code and the reference runs once, timed. The defaults of the jobs are the options used.
"""
import importlib.util
import json
import os
import sys
import tempfile
import time
import unittest
import warnings
from unittest import mock

import h5py
import numpy as np
import pandas as pd

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
warnings.simplefilter("ignore")

from pearl_testing import read_output  # noqa: E402


def golden(path):
    """The golden test module at jobs/`path` (imported by file: the tests are not a package)."""
    sys.path.insert(0, os.path.dirname(os.path.join(ROOT, "jobs", path)))  # social_testlib and the like
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "jobs", path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_table(data, domain, table, columns):
    """`columns` of every shard of `table` in DATA/domain, in path order, as stored (either
    layout); strings decoded to str, as pearl_testing.read_output gives them."""
    import glob
    frames = []
    for path in sorted(glob.glob(os.path.join(data, domain, f"{table}-*.h5"))):
        with h5py.File(path, "r") as f:
            obj = f[table]
            cols = {}
            for c in columns:
                if isinstance(obj, h5py.Group):
                    ds = obj[c]
                    cols[c] = ds.asstr()[:] if h5py.check_string_dtype(ds.dtype) else ds[:]
                else:
                    v = obj.fields(c)[:] if len(obj) else np.zeros(0, obj.dtype[c])
                    if v.dtype.kind == "S":
                        v = v.astype(str)
                    elif h5py.check_string_dtype(obj.dtype[c]):  # variable-length: bytes objects
                        v = np.array([x.decode() for x in v], dtype=object)
                    cols[c] = v
            frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)


def tester():
    """A TestCase to run the tests' assertions on (they only use its assert methods)."""
    t = unittest.TestCase()
    t.maxDiff = 2000
    return t


# ---- one entry per job: inputs (pearl's --input), reference(data) -> result, compare -----------

def incidence():
    m = golden("health/incidence/test_incidence.py")

    def reference(data):
        cases = read_table(data, "health", "cases", ["region_code", "disease", "age_years", "onset_day"])
        pop = read_table(data, "health", "population", ["region_code", "year", "sex", "age_group", "population"])
        pop = pop.astype({"population": np.int64})  # as the test's make_population (n**2 overflows uint32)
        return m.expected(cases, pop, ["region", "disease", "year"], "city", m.WHO, 100000.0, 10)[0]

    def compare(want, out):
        m.Incidence.compare(tester(), read_output(out, "incidence")[0], want)
    return {"reference": reference, "compare": compare}


def outbreak():
    m = golden("health/outbreak/test_outbreak.py")

    def reference(data):
        frame = read_table(data, "health", "cases", ["region_code", "disease", "onset_day"])
        s = m.Scenario("default", [], ["region", "disease"], ["C1", "C2", "C3"])  # the job's defaults
        s.build_series(frame, "onset_day", int(frame.onset_day.min()), int(frame.onset_day.max()))
        with tempfile.TemporaryDirectory() as d:
            return m.r_earsc([s], d)[0]["default"]

    def compare(want, out):
        got, types = read_output(out, "alarms")
        m.Golden.compare(tester(), got, types, want)
    return {"reference": reference, "compare": compare}


def risk_model():
    m = golden("health/risk_model/test_risk_model.py")

    def reference(data):
        return m.statsmodels_fit(read_table(data, "health", "checkups", ["diabetes"] + m.COVARIATES),
                                 "diabetes", m.COVARIATES)

    def compare(fit, out):
        coef, _ = read_output(out, "coefficients")
        tester().assertEqual(int(read_output(out, "fit")[0]["n"][0]), int(fit.nobs))
        m.assert_matches_statsmodels(fit, coef["estimate"], coef["std_error"])
    return {"reference": reference, "compare": compare}


def compliance():
    m = golden("social/test_compliance.py")
    by = ["region", "insurance", "month"]

    def reference(data):
        cols = ["person_id", "employer_id", "region_code", "insurance", "month", "due", "paid"]
        return m.expected(read_table(data, "social", "contributions", cols), by)

    def compare(want, out):
        t = tester()
        t.data = None
        with mock.patch.object(m, "expected", lambda *a, **k: want):
            m.Golden.check(t, read_output(out, "compliance")[0], by)
    return {"reference": reference, "compare": compare}


def anomalies():
    m = golden("social/test_anomalies.py")

    def reference(data):
        claims = read_table(data, "social", "claims", ["claim_id", "person_id", "region_code", "benefit", "claim_day",
                                                       "amount"])
        deaths = read_table(data, "social", "deaths", ["person_id", "death_day"])
        contrib = read_table(data, "social", "contributions", ["person_id", "month", "insurance", "paid"])
        return m.expected(claims, deaths, contrib)

    def compare(want, out):
        with mock.patch.object(m, "expected", lambda *a, **k: want):
            m.check(tester(), out, None, None, None)
    return {"reference": reference, "compare": compare}


def unemployment():
    m = golden("social/test_unemployment.py")

    def reference(data):
        spells = read_table(data, "social", "unemployment", ["region_code", "start_day", "end_day"])
        lf = read_table(data, "social", "labour_force", ["region_code", "month", "employed"])
        return m.expected(spells, lf)

    def compare(want, out):
        m.Golden.check(tester(), read_output(out, "unemployment")[0], want)
    return {"reference": reference, "compare": compare}


def od():
    m = golden("transport/test_od.py")

    def reference(data):
        taps = read_table(data, "transport", "taps", ["card_id", "tap_time", "station_id", "tap_type"])
        # as the test's read_taps types them
        taps = taps.astype({"card_id": np.uint64, "tap_time": np.int64, "station_id": np.uint32, "tap_type": np.uint8})
        return m.od_reference(taps)

    def compare(want, out):
        got = {t: (f, list(types.values())) for t in ("od", "quality") for f, types in [read_output(out, t)]}
        with mock.patch.object(m, "od_reference", lambda *a, **k: want):
            m.Golden.check(tester(), got, None)
    return {"reference": reference, "compare": compare}


def flow():
    m = golden("transport/test_flow.py")

    def reference(data):
        gps = read_table(data, "transport", "gps", ["vehicle_id", "time", "lon", "lat", "speed_kmh"])
        # as the test's read_gps types them
        gps = gps.astype({"vehicle_id": np.uint64, "time": np.int64, "lon": np.float64, "lat": np.float64,
                          "speed_kmh": np.float64})
        return m.flow_reference(gps)

    def compare(want, out):
        got, types = read_output(out, "flow")
        with mock.patch.object(m, "flow_reference", lambda *a, **k: want):
            m.Golden.check(tester(), (got, list(types.values())), None)
    return {"reference": reference, "compare": compare}


JOBS = {"health.incidence": incidence, "health.outbreak": outbreak, "health.risk_model": risk_model,
        "social.compliance": compliance, "social.anomalies": anomalies, "social.unemployment": unemployment,
        "transport.od": od, "transport.flow": flow}
# What each job reads (pearl's --input NAME=DATA/<domain>/<table>-*.h5), without importing the tests.
INPUTS = {"health.incidence": {"cases": "health/cases", "population": "health/population"},
          "health.outbreak": {"cases": "health/cases"},
          "health.risk_model": {"checkups": "health/checkups"},
          "social.compliance": {"contributions": "social/contributions"},
          "social.anomalies": {"claims": "social/claims", "deaths": "social/deaths",
                               "contributions": "social/contributions"},
          "social.unemployment": {"unemployment": "social/unemployment", "labour_force": "social/labour_force"},
          "transport.od": {"taps": "transport/taps"},
          "transport.flow": {"gps": "transport/gps"}}


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in JOBS:
        sys.exit(__doc__)
    job, data, outputs = sys.argv[1], sys.argv[2], sys.argv[3:]
    spec = JOBS[job]()  # imports the golden test's module, and what it imports
    spawned = os.environ.get("PEARL_BENCH_SPAWNED")
    startup = time.time() - float(spawned) if spawned else None
    t0 = time.perf_counter()
    result = spec["reference"](data)
    wall = time.perf_counter() - t0
    rss = peak_rss()
    checks = {}
    for out in outputs:
        try:
            spec["compare"](result, out)
            checks[out] = "ok"
        except AssertionError as e:  # the tests' assertions: a result that differs
            checks[out] = str(e).strip()[:2000] or "differs"
    print(json.dumps({"wall_s": wall, "startup_s": startup, "peak_rss": rss, "rows": len(result) if hasattr(result, "__len__") else 1,
                      "checks": checks}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
