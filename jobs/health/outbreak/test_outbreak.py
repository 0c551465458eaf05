#!/usr/bin/python3
"""Golden test of health.outbreak against R surveillance::earsC 1.20.3, at 1, 2, 3 and 4 ranks.

Scenarios (each compared per key, day and method with R: upperbound to 1e-9 relative, NaN where
R has NaN, alarm equal, R's NA alarm as 0):
  default   --by region,disease at city level, all methods, default alpha, from/to = input's days
  report    --by disease,sex --date report_day --baseline 4 --alpha 0.05 --from/--to inside the data
  county    --by region --region-level county --baseline 10 --min-sigma 0.7 --methods C3,C1,
            --from/--to wider than the data (zero-filled ends)
  agona     surveillance's salmonella.agona series as one key, all three methods, R run on the
            shipped object itself
Fixtures: four shards (columnar; columnar with other integer widths and fixed strings; a compound
dataset with narrow/odd widths; an empty one), sparse diseases (R's C3 NaN case), a non-ASCII code.
Also: --only-alarms, results identical at every rank count, bad options (exit 2, one message, no
output), and the data generator's injected outbreaks found.

All R results come from one Rscript call (R's start-up dominates on a busy machine).
Run by CTest with PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS; alone:
PYTHONPATH=tests/support PEARL_BIN=build/bin/pearl THIS_FILE."""
import os
import subprocess
import tempfile
import unittest

import h5py
import numpy as np
import pandas as pd

from pearl_testing import RANKS, pearl, read_output, write_columnar, write_compound

JOB = "health.outbreak"
FIRST_DEFINED = {"C1": 0, "C2": 2, "C3": 4}  # + baseline: earsC's default range start (0-based)
OUTPUT_TYPES = {"region_code": np.uint32, "disease": object, "sex": np.uint8, "day": np.int32, "method": object,
                "observed": np.int64, "upperbound": np.float64, "alarm": np.uint8}

# Reads series.csv (id,count in day order) and jobs.csv (id,method,baseline,alpha,minSigma; alpha
# NA = earsC's default) and writes earsC's range, observed, upperbound, alarm per job; then dumps
# salmonella.agona's counts and earsC of the shipped object for each method (ids -1, -2, -3).
R_SCRIPT = r"""
suppressPackageStartupMessages(library(surveillance))
a <- commandArgs(TRUE)
series <- read.csv(a[1]); jobs <- read.csv(a[2], stringsAsFactors = FALSE)
by_id <- split(series$count, series$id)
out <- file(a[3], "w")
writeLines("id,method,t,observed,upperbound,alarm", out)
emit <- function(id, method, r) {
  al <- alarms(r)[, 1]
  writeLines(sprintf("%d,%s,%d,%.0f,%.17g,%s", id, method, r@control$range, observed(r)[, 1],
                     upperbound(r)[, 1], ifelse(is.na(al), "NA", as.integer(al))), out)
}
for (i in seq_len(nrow(jobs))) {
  j <- jobs[i, ]
  ctl <- list(method = j$method, baseline = j$baseline, minSigma = j$minSigma)
  if (!is.na(j$alpha)) ctl$alpha <- j$alpha
  emit(j$id, j$method, earsC(sts(observed = matrix(by_id[[as.character(j$id)]], ncol = 1)), control = ctl))
}
data(salmonella.agona)
agona <- disProg2sts(salmonella.agona)
for (k in 1:3) emit(-k, paste0("C", k), earsC(agona, control = list(method = paste0("C", k))))
close(out)
write.csv(data.frame(count = observed(agona)[, 1]), a[4], row.names = FALSE)
"""


def fixture_cases(rng):
    """Case rows over 90 days: busy, moderate and sparse (county, disease) series with a spike."""
    counties = [440106, 440111, 440305, 441900]
    rates = {"J11": 6.0, "B08.4": 2.0, "A15": 0.6, "A00": 0.03, "登革热": 0.15}
    rows = []
    for county in counties:
        for disease, rate in rates.items():
            n = rng.poisson(rate * rng.uniform(0.5, 1.5), 90)
            if disease == "B08.4" and county == 440305:
                n[60:64] += np.array([6, 12, 9, 4])  # an outbreak
            for day, k in enumerate(n):
                rows += [(county, disease, 19000 + day)] * int(k)
    rows += [(440106, "Z99", 19000), (440106, "Z99", 19001)]  # a key seen only on the first days
    df = pd.DataFrame(rows, columns=["region_code", "disease", "onset_day"])
    n = len(df)
    df["region_code"] = df["region_code"].astype(np.uint32)
    df["onset_day"] = df["onset_day"].astype(np.int32)
    df["report_day"] = (df["onset_day"] + rng.choice(6, n, p=[.3, .3, .2, .1, .05, .05])).astype(np.int32)
    df["sex"] = rng.integers(1, 3, n).astype(np.uint8)
    df["case_id"] = np.arange(n, dtype=np.uint64)
    df["age_years"] = rng.integers(0, 90, n).astype(np.uint8)
    return df.sample(frac=1, random_state=1).reset_index(drop=True)  # rows in no particular order


class Scenario:
    """A run of the job and the series R gets for it (built here from the fixture rows)."""

    def __init__(self, name, args, keys, methods, baseline=7, alpha=None, min_sigma=0.0):
        self.name, self.args, self.keys, self.methods = name, args, keys, methods
        self.baseline, self.alpha, self.min_sigma = baseline, alpha, min_sigma
        self.series = []  # (key tuple, first day, counts)

    def build_series(self, frame, date, first, last, level=100):
        """Every key with a case in the input (contract), counted over [first, last] only."""
        df = frame.copy()
        df["region_code"] = df["region_code"] // level * level
        cols = [{"region": "region_code"}.get(k, k) for k in self.keys]
        for key, g in df.groupby(cols if len(cols) > 1 else cols[0], sort=True):
            key = key if isinstance(key, tuple) else (key,)
            days = g[date].to_numpy()
            days = days[(days >= first) & (days <= last)]
            counts = np.zeros(last - first + 1, dtype=np.int64)
            np.add.at(counts, days - first, 1)
            self.series.append((key, first, counts))
        self.columns = cols


def r_earsc(scenarios, d):
    """R earsC (R_SCRIPT, one Rscript call, files in folder d) on every series of `scenarios`
    (their series built). Returns ({scenario name: expected alarms, as Golden.frame_of}, R's
    output table: its rows with id < 0 are salmonella.agona's, whose counts are in
    d/agona.csv). Also the reference of bench/domains."""
    ids, series_rows, jobs = {}, [], []
    for s in scenarios:
        for key, first, counts in s.series:
            sid = len(ids)
            ids[sid] = (s.name, key, first)
            series_rows += [(sid, int(c)) for c in counts]
            for m in s.methods:
                if len(counts) > s.baseline + FIRST_DEFINED[m]:  # earsC stops on shorter series
                    jobs.append((sid, m, s.baseline, "NA" if s.alpha is None else s.alpha, s.min_sigma))
    pd.DataFrame(series_rows, columns=["id", "count"]).to_csv(f"{d}/series.csv", index=False)
    pd.DataFrame(jobs, columns=["id", "method", "baseline", "alpha", "minSigma"]).to_csv(f"{d}/jobs.csv",
                                                                                        index=False)
    with open(f"{d}/earsc.R", "w") as f:
        f.write(R_SCRIPT)
    r = subprocess.run(["Rscript", f"{d}/earsc.R", f"{d}/series.csv", f"{d}/jobs.csv", f"{d}/r.csv",
                        f"{d}/agona.csv"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r_out = pd.read_csv(f"{d}/r.csv", keep_default_na=False, na_values=["NaN", "NA"])

    expected = {}
    for s in scenarios:
        rows = []
        for sid, (name, key, first) in ids.items():
            if name != s.name:
                continue
            for rec in r_out[r_out.id == sid].itertuples():
                rows.append((*key, first + rec.t - 1, rec.method, rec.observed, rec.upperbound,
                             0 if pd.isna(rec.alarm) else int(rec.alarm)))
        expected[s.name] = Golden.frame_of(rows, s.columns)
    return expected, r_out


class Golden(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.d = cls.tmp.name
        rng = np.random.default_rng(20240605)
        frame = fixture_cases(rng)
        parts = np.array_split(frame, 3)
        write_columnar(f"{d}/cases-0.h5", parts[0], "cases")
        write_columnar(f"{d}/cases-1.h5", parts[1], "cases", fixed_strings=True,
                       widths={"region_code": np.int64, "sex": np.int16, "onset_day": np.int64,
                               "report_day": np.uint16})
        write_compound(f"{d}/cases-2.h5", parts[2], "cases",
                       widths={"region_code": np.uint64, "sex": np.int8, "onset_day": np.int16,
                               "report_day": np.uint32})
        write_columnar(f"{d}/cases-3.h5", frame.iloc[:0], "cases")  # an empty shard
        cls.glob = f"{d}/cases-*.h5"
        cls.frame = frame

        on0, on1 = int(frame.onset_day.min()), int(frame.onset_day.max())
        rp0, rp1 = int(frame.report_day.min()), int(frame.report_day.max())
        s_default = Scenario("default", [], ["region", "disease"], ["C1", "C2", "C3"])
        s_default.build_series(frame, "onset_day", on0, on1)
        s_report = Scenario("report", ["--by", "disease,sex", "--date", "report_day", "--baseline", "4",
                                       "--alpha", "0.05", "--from", str(rp0 + 5), "--to", str(rp1 - 10),
                                       "--methods", "C2,C3"],
                            ["disease", "sex"], ["C2", "C3"], baseline=4, alpha=0.05)
        s_report.build_series(frame, "report_day", rp0 + 5, rp1 - 10)
        s_county = Scenario("county", ["--by", "region", "--region-level", "county", "--baseline", "10",
                                       "--min-sigma", "0.7", "--from", str(on0 - 5), "--to", str(on1 + 3),
                                       "--methods", "C3,C1"],
                            ["region"], ["C1", "C3"], baseline=10, min_sigma=0.7)
        s_county.build_series(frame, "onset_day", on0 - 5, on1 + 3, level=1)
        cls.scenarios = [s_default, s_report, s_county]

        # One Rscript call for everything.
        cls.expected, r_out = r_earsc(cls.scenarios, d)

        # salmonella.agona as one key: one case row per count, consecutive days from day0.
        counts = pd.read_csv(f"{d}/agona.csv")["count"].to_numpy()
        day0 = 15000
        days = np.repeat(np.arange(len(counts)) + day0, counts).astype(np.int32)
        agona = pd.DataFrame({"region_code": np.full(len(days), 440106, np.uint32),
                              "disease": np.array(["A02.0"] * len(days), dtype=object), "onset_day": days,
                              "report_day": days, "sex": np.ones(len(days), np.uint8)})
        write_columnar(f"{d}/agona-0.h5", agona.iloc[: len(agona) // 2], "cases", widths={"onset_day": np.int64})
        write_compound(f"{d}/agona-1.h5", agona.iloc[len(agona) // 2:], "cases", widths={"region_code": np.int64})
        rows = [(440100, "A02.0", day0 + rec.t - 1, rec.method, rec.observed, rec.upperbound,
                 0 if pd.isna(rec.alarm) else int(rec.alarm)) for rec in r_out[r_out.id < 0].itertuples()]
        cls.agona_days = (day0, day0 + len(counts) - 1)
        cls.expected["agona"] = cls.frame_of(rows, ["region_code", "disease"])

    @staticmethod
    def frame_of(rows, key_columns):
        cols = key_columns + ["day", "method", "observed", "upperbound", "alarm"]
        df = pd.DataFrame(rows, columns=cols)
        return df.sort_values(key_columns + ["day", "method"], kind="stable").reset_index(drop=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_job(self, name, args, ranks, glob=None):
        out = os.path.join(self.d, f"out-{name}-{ranks}.h5")  # not matched by the input globs
        if os.path.exists(out):  # a rerun replaces it (pearl refuses without --overwrite)
            os.remove(out)
        r = pearl("run", JOB, "--input", f"cases={glob or self.glob}", "--output", out, *args, ranks=ranks)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return read_output(out, "alarms")

    def compare(self, got, types, want):
        self.assertEqual(list(got.columns), list(want.columns))
        for c in got.columns:
            if OUTPUT_TYPES[c] is object:
                self.assertTrue(h5py.check_string_dtype(types[c]), c)
            else:
                self.assertEqual(types[c], OUTPUT_TYPES[c], c)
        self.assertEqual(len(got), len(want))
        for c in want.columns:
            if c != "upperbound":
                self.assertEqual(got[c].tolist(), want[c].tolist(), c)
        g, w = got["upperbound"].to_numpy(), want["upperbound"].to_numpy()
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w), "NaN exactly where R has NaN")
        np.testing.assert_allclose(g[~np.isnan(g)], w[~np.isnan(w)], rtol=1e-9, atol=0)

    def test_matches_r_earsc_at_every_rank_count(self):
        for s in self.scenarios:
            want = self.expected[s.name]
            # the fixture exercises what it claims: alarms, quiet days and (default) C3's NaN case
            self.assertGreater(want.alarm.sum(), 0, s.name)
            self.assertGreater((want.alarm == 0).sum(), 0, s.name)
            if "C3" in s.methods and s.min_sigma == 0:
                self.assertGreater(want.upperbound.isna().sum(), 0, s.name)
            if s.name == "report":  # Z99's cases fall before --from: its series is all zeros
                self.assertTrue(any(c.sum() == 0 for _, _, c in s.series))
            first = None
            for ranks in RANKS:
                with self.subTest(scenario=s.name, ranks=ranks):
                    got, types = self.run_job(s.name, s.args, ranks)
                    self.compare(got, types, want)
                    if first is None:
                        first = got
                    pd.testing.assert_frame_equal(got, first)  # identical at any rank count

    def test_salmonella_agona_all_methods(self):
        want = self.expected["agona"]
        self.assertEqual(sorted(set(want.method)), ["C1", "C2", "C3"])
        self.assertGreater(want.alarm.sum(), 0)
        d0, d1 = self.agona_days
        for ranks in RANKS:
            with self.subTest(ranks=ranks):
                got, types = self.run_job("agona", ["--from", str(d0), "--to", str(d1)], ranks,
                                          glob=f"{self.d}/agona-*.h5")
                self.compare(got, types, want)

    def test_only_alarms_keeps_the_alarm_rows(self):
        want = self.expected["default"]
        want = want[want.alarm == 1].reset_index(drop=True)
        self.assertGreater(len(want), 0)
        got, types = self.run_job("only", ["--only-alarms"], 3)
        self.compare(got, types, want)


class BadOptions(unittest.TestCase):
    """Each bad option: exit 2, one error line naming the option, no output file."""

    def test_bad_options(self):
        with tempfile.TemporaryDirectory() as d:
            write_columnar(f"{d}/c.h5", fixture_cases(np.random.default_rng(1)).iloc[:500], "cases")
            out = f"{d}/out.h5"
            bad = [
                (["--methods", "C1,C4"], "--methods"),
                (["--methods", ""], "--methods"),
                (["--by", "region,age"], "--by"),
                (["--baseline", "2"], "--baseline"),
                (["--baseline", "x"], "--baseline"),
                (["--alpha", "1.5"], "--alpha"),
                (["--alpha", "x"], "--alpha"),
                (["--min-sigma", "-1"], "--min-sigma"),
                (["--from", "19050", "--to", "19000"], "--from"),
                (["--from", "1e5"], "--from"),
                (["--from", "99999"], "--from"),  # after the input's last day
                (["--to", "10"], "--to"),  # before the input's first day
                (["--date", "admit_day"], "--date"),
                (["--region-level", "town"], "--region-level"),
            ]
            # Options are checked alike on every rank: each is tried on one rank without a
            # launcher (an error under Open MPI's mpiexec costs ~3 s); --from past the input's
            # last day is found after a collective, so it is also tried at 3 ranks.
            runs = [(1, a, o) for a, o in bad] + [(3, ["--from", "99999"], "--from")]
            for ranks, args, option in runs:
                with self.subTest(ranks=ranks, args=args):
                    r = pearl("run", JOB, "--input", f"cases={d}/c.h5", "--output", out, *args,
                              ranks=ranks if ranks > 1 else None)
                    self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                    errors = [l for l in r.stderr.splitlines() if l.startswith("pearl: error")]
                    self.assertEqual(len(errors), 1, r.stderr)
                    self.assertIn(option, errors[0])
                    self.assertFalse(os.path.exists(out))


class EdgeCases(unittest.TestCase):
    def test_empty_input_and_short_series(self):
        with tempfile.TemporaryDirectory() as d:
            df = fixture_cases(np.random.default_rng(2))
            write_columnar(f"{d}/empty.h5", df.iloc[:0], "cases")
            r = pearl("run", JOB, "--input", f"cases={d}/empty.h5", "--output", f"{d}/e.h5", ranks=None)
            self.assertEqual(r.returncode, 0, r.stderr)
            got, types = read_output(f"{d}/e.h5", "alarms")
            self.assertEqual(list(got.columns), ["region_code", "disease", "day", "method", "observed", "upperbound",
                                                 "alarm"])
            self.assertEqual(len(got), 0)
            # 5 days of data: too short for every method at baseline 7 (no rows, no error, as
            # earsC would refuse); at baseline 3 only C1 is defined, on the 4th and 5th day.
            short = df[df.onset_day < 19005]
            write_columnar(f"{d}/short.h5", short, "cases")
            for baseline, days in (("7", []), ("3", [19003, 19004])):
                r = pearl("run", JOB, "--input", f"cases={d}/short.h5", "--by", "sex", "--baseline", baseline,
                          "--output", f"{d}/s{baseline}.h5", ranks=None)
                self.assertEqual(r.returncode, 0, r.stderr)
                got, _ = read_output(f"{d}/s{baseline}.h5", "alarms")
                self.assertEqual(sorted(set(got.method)), ["C1"] if days else [])
                self.assertEqual(got.day.tolist(), days * 2)  # sex 1, then sex 2
                self.assertEqual(got.sex.tolist(), [1] * len(days) + [2] * len(days))


class GeneratedOutbreaks(unittest.TestCase):
    """The outbreaks data.generate injects (outbreaks.csv) raise alarms inside their windows."""

    def test_injected_outbreaks_are_found(self):
        with tempfile.TemporaryDirectory() as d:
            r = pearl("run", "data.generate", "--domain", "health", "--rows", "20000", "--shards", "3", "--seed",
                      "17", "--out-dir", d, ranks=2)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            truth = pd.read_csv(f"{d}/outbreaks.csv")
            self.assertEqual(len(truth), 4)
            # County level: the full table (1.8 M rows) in a small memory budget, so the engine
            # spills; city level: --only-alarms.
            for level, code, extra in (("county", "region_code", ["--memory", "4MiB", "--threads", "2"]),
                                       ("city", "city_code", ["--only-alarms"])):
                out = f"{d}/alarms-{level}.h5"
                r = pearl("run", JOB, "--input", f"cases={d}/cases-*.h5", "--region-level", level, *extra,
                          "--output", out, ranks=3)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                alarms, _ = read_output(out, "alarms")
                alarms = alarms[alarms.alarm == 1]
                for o in truth.itertuples():
                    with self.subTest(level=level, region=getattr(o, code), disease=o.disease):
                        hit = alarms[(alarms.region_code == getattr(o, code)) & (alarms.disease == o.disease) &
                                     (alarms.day >= o.first_day) & (alarms.day <= o.last_day)]
                        self.assertGreater(len(hit), 0, f"no alarm for {o}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
