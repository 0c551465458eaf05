#!/usr/bin/python3
"""Golden test of health.incidence at 1-4 ranks against R epitools::ageadjust.direct and an
independent pandas/scipy implementation of the contract's formulas; fixtures in both HDF5
layouts (columnar group, compound dataset, pandas table format) with mixed integer widths,
fixed and variable strings and an empty shard; suppression, --by combinations, both
standards, region levels, population at city level, and the bad-input errors.

The reference implementation is itself checked against the published Fay & Feuer (1997)
Table 1 figures (as reproduced by example(ageadjust.direct)).

Run by CTest (job.health.incidence) with PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS in the
environment; alone: PYTHONPATH=tests/support PEARL_BIN=build/bin/pearl /usr/bin/python3 THIS_FILE."""
import io
import os
import subprocess
import tempfile
import unittest
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from pearl_testing import RANKS, pearl, read_output, write_columnar, write_compound

warnings.simplefilter("ignore")
JOB = "health.incidence"

WHO = np.array([8860, 8690, 8600, 8470, 8220, 7930, 7610, 7150, 6590, 6040, 5370, 4550, 3720,
                2960, 2210, 1520, 910, 635], dtype=float)
SEGI = np.array([12000, 10000, 9000, 9000, 8000, 8000, 6000, 6000, 6000, 6000, 5000, 4000,
                 4000, 3000, 2000, 1000, 500, 500], dtype=float)
STANDARDS = {"who2000": WHO, "segi": SEGI}
KEY_ORDER = ["region_code", "disease", "sex", "year"]
BY_COLUMN = {"region": "region_code", "disease": "disease", "sex": "sex", "year": "year"}
COUNTIES = [440103, 440104, 440106, 440111, 440303, 440305, 441900, 445102]
DAY_2022 = 18993  # 2022-01-01


def fay_feuer(d, n, std, per):
    """The contract's formulas for one row (d, n: 18 cases and populations; groups with
    n = 0 have d = 0 and add nothing)."""
    w = std / std.sum()
    pos = n > 0
    y = np.sum(w[pos] * d[pos] / n[pos])
    v = np.sum(w[pos] ** 2 * d[pos] / n[pos] ** 2)
    wm = np.max(w[pos] / n[pos])
    lower = stats.gamma.ppf(0.025, y * y / v, scale=v / y)
    upper = stats.gamma.ppf(0.975, (y + wm) ** 2 / (v + wm * wm), scale=(v + wm * wm) / (y + wm))
    return d.sum() / n.sum() * per, y * per, lower * per, upper * per


def r_ageadjust(rows, std):
    """epitools::ageadjust.direct for each (d, n) pair of 18-vectors, in one R run."""
    text = "\n".join(",".join(str(int(x)) for x in list(d) + list(n)) for d, n in rows)
    script = ("suppressPackageStartupMessages(library(epitools)); m <- as.matrix(read.csv(file('stdin'), header=FALSE));"
              f"std <- c({','.join(str(x) for x in std)});"
              "r <- t(apply(m, 1, function(x) ageadjust.direct(x[1:18], x[19:36], stdpop=std)));"
              "write.csv(r, stdout(), row.names=FALSE); ")
    out = subprocess.run(["Rscript", "-e", script], input=text, capture_output=True, text=True, check=True)
    return pd.read_csv(io.StringIO(out.stdout)).to_numpy()


def make_population(rng):
    idx = pd.MultiIndex.from_product([COUNTIES, [2022, 2023], [1, 2], range(18)],
                                     names=["region_code", "year", "sex", "age_group"])
    pop = idx.to_frame(index=False)
    pop["population"] = rng.integers(2000, 60000, len(pop)).astype(np.int64)
    return pop.astype({"region_code": np.uint32, "year": np.uint16, "sex": np.uint8, "age_group": np.uint8})


def make_cases(rng, n):
    # A rare disease (a few cases per key) so that small-cell suppression bites.
    diseases = np.array(["J11", "B08.4", "A90", "A15", "Z99.9"])
    which = rng.choice(len(diseases), n, p=[0.45, 0.25, 0.15, 0.14, 0.01])
    return pd.DataFrame({
        "case_id": np.arange(n, dtype=np.uint64),
        "sex": rng.integers(1, 3, n).astype(np.uint8),
        "age_years": rng.integers(0, 111, n).astype(np.uint8),
        "region_code": rng.choice(COUNTIES, n).astype(np.uint32),
        "disease": diseases[which],
        "onset_day": rng.integers(DAY_2022, DAY_2022 + 730, n).astype(np.int32),
    })


def expected(cases, pop, by, level, std, per, min_cell):
    """pandas: cases per key and age group, population per key and age group, formulas."""
    level_div = {"county": 1, "city": 100, "province": 10000}[level]
    c = cases.copy()
    c["region_code"] = (c["region_code"].astype(np.int64) // level_div * level_div)
    c["year"] = pd.to_datetime(c["onset_day"].astype(np.int64), unit="D").dt.year
    c["age_group"] = np.minimum(c["age_years"].astype(np.int64) // 5, 17)
    p = pop.copy()
    p["region_code"] = (p["region_code"].astype(np.int64) // level_div * level_div)
    keys = [k for k in KEY_ORDER if k in [BY_COLUMN[b] for b in by]]
    pkeys = [k for k in keys if k != "disease"]
    d = c.groupby(keys + ["age_group"]).size().unstack("age_group", fill_value=0).reindex(columns=range(18), fill_value=0)
    n = p.groupby(pkeys + ["age_group"])["population"].sum().unstack("age_group", fill_value=0) \
        .reindex(columns=range(18), fill_value=0)
    rows, pairs = [], []
    for key, counts in d.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        kd = dict(zip(keys, key))
        pk = tuple(kd[k] for k in pkeys)
        people = n.loc[pk if len(pk) > 1 else pk[0]].to_numpy() if pkeys else n.sum().to_numpy()
        dd = counts.to_numpy()
        crude, asr, lo, hi = fay_feuer(dd, people, std, per)
        hide = 1 <= dd.sum() < min_cell
        nan = float("nan")
        rows.append({**kd, "cases": -1 if hide else int(dd.sum()), "population": int(people.sum()),
                     "crude_rate": nan if hide else crude, "asr": nan if hide else asr,
                     "asr_lower": nan if hide else lo, "asr_upper": nan if hide else hi,
                     "suppressed": int(hide)})
        pairs.append((dd, people, hide))
    return pd.DataFrame(rows, columns=keys + ["cases", "population", "crude_rate", "asr", "asr_lower",
                                                "asr_upper", "suppressed"]), pairs


class Incidence(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        rng = np.random.default_rng(2024)
        parts = [make_cases(rng, n) for n in (2500, 0, 1800, 3100, 900)]
        write_columnar(f"{d}/cases-0.h5", parts[0], "cases")
        write_columnar(f"{d}/cases-1.h5", parts[1], "cases")  # empty shard
        write_columnar(f"{d}/cases-2.h5", parts[2], "cases", fixed_strings=True, compress=True,
                       widths={"age_years": np.int16, "region_code": np.int64, "sex": np.int32})
        write_compound(f"{d}/cases-3.h5", parts[3], "cases", widths={"onset_day": np.int64, "age_years": np.uint16})
        parts[4].to_hdf(f"{d}/cases-4.h5", key="cases", format="table", data_columns=True, index=False)
        cls.cases = pd.concat(parts, ignore_index=True)
        cls.pop = make_population(rng)
        half = len(cls.pop) // 2
        write_columnar(f"{d}/pop-0.h5", cls.pop.iloc[:half], "population",
                       widths={"year": np.int32, "population": np.uint32})
        write_compound(f"{d}/pop-1.h5", cls.pop.iloc[half:].reset_index(drop=True), "population",
                       widths={"region_code": np.int64, "sex": np.int8})
        cls.inputs = ["--input", f"cases={d}/cases-*.h5", "--input", f"population={d}/pop-*.h5"]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_job(self, ranks, *extra, inputs=None):
        out = os.path.join(self.tmp.name, f"out-{ranks}-{abs(hash(extra))}.h5")
        if os.path.exists(out):
            os.remove(out)
        r = pearl("run", JOB, *(inputs or self.inputs), "--output", out, *extra, ranks=ranks)
        self.assertEqual(r.returncode, 0, r.stderr)
        return read_output(out, "incidence")

    def compare(self, got, want):
        self.assertEqual(list(got.columns), list(want.columns))
        self.assertEqual(len(got), len(want))
        for c in want.columns:
            if c in ("crude_rate", "asr", "asr_lower", "asr_upper"):
                np.testing.assert_allclose(got[c].to_numpy(float), want[c].to_numpy(float), rtol=1e-9, err_msg=c)
            else:
                self.assertEqual(got[c].tolist(), want[c].tolist(), c)

    def check(self, by, level="city", standard="who2000", per=100000.0, min_cell=10, ranks=RANKS, with_r=True):
        want, pairs = expected(self.cases, self.pop, by, level, STANDARDS[standard], per, min_cell)
        self.assertGreater(len(want), 0)
        if with_r:  # the reference itself against R, on every unsuppressed row
            shown = [(d, n) for d, n, hide in pairs if not hide]
            r = r_ageadjust(shown, STANDARDS[standard])
            ours = want.loc[want["suppressed"] == 0, ["crude_rate", "asr", "asr_lower", "asr_upper"]].to_numpy()
            np.testing.assert_allclose(ours, r * per, rtol=1e-9)
        for n in ranks:
            with self.subTest(by=by, level=level, standard=standard, ranks=n):
                got, types = self.run_job(n, "--by", ",".join(by), "--region-level", level, "--standard", standard,
                                          "--per", repr(per), "--min-cell", str(min_cell))
                self.compare(got, want)
        return want, types

    def test_default_key_at_1_to_4_ranks(self):
        want, types = self.check(["region", "disease", "year"])
        self.assertGreater(want["suppressed"].sum(), 0, "the fixture should exercise suppression")
        self.assertEqual(types["region_code"], np.uint32)
        self.assertEqual(types["year"], np.uint16)
        self.assertEqual(types["cases"], np.int64)
        self.assertEqual(types["population"], np.int64)
        self.assertEqual(types["suppressed"], np.uint8)

    def test_all_keys_county_segi_given_out_of_order(self):
        # --by order does not matter: key columns come in the contract's order.
        want, types = self.check(["year", "sex", "disease", "region"], level="county", standard="segi",
                                 per=1000.0, min_cell=5, ranks=(1, 3))
        self.assertEqual(types["sex"], np.uint8)

    def test_disease_sex_province_no_suppression(self):
        self.check(["disease", "sex"], level="province", min_cell=0, ranks=(4,))

    def test_year_only(self):
        self.check(["year"], ranks=(2,))

    def test_population_at_city_level(self):
        # The same population summed to city codes: city and province levels give the same
        # rows as before; county level is refused, naming the coarser region.
        d = self.tmp.name
        city = self.pop.copy()
        city["region_code"] = (city["region_code"] // 100 * 100).astype(np.uint32)
        city = city.groupby(["region_code", "year", "sex", "age_group"], as_index=False)["population"].sum()
        write_columnar(f"{d}/citypop.h5", city, "population")
        inputs = ["--input", f"cases={d}/cases-*.h5", "--input", f"population={d}/citypop.h5"]
        for level in ("city", "province"):
            want, _ = expected(self.cases, self.pop, ["region", "disease"], level, WHO, 100000.0, 10)
            got, _ = self.run_job(3, "--by", "region,disease", "--region-level", level, inputs=inputs)
            self.compare(got, want)
        out = os.path.join(d, "county-from-city.h5")
        r = pearl("run", JOB, *inputs, "--output", out, "--by", "region", "--region-level", "county", ranks=2)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("coarser", r.stderr)
        self.assertIn("--region-level", r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_population_at_two_levels_is_refused(self):
        d = self.tmp.name
        both = pd.concat([self.pop, self.pop.assign(region_code=np.uint32(440100))], ignore_index=True)
        write_columnar(f"{d}/bothpop.h5", both, "population")
        out = os.path.join(d, "both.h5")
        r = pearl("run", JOB, "--input", f"cases={d}/cases-*.h5", "--input", f"population={d}/bothpop.h5",
                  "--output", out, ranks=2)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("440100", r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_missing_population_is_an_error(self):
        d = self.tmp.name
        # Drop one stratum that has cases: county 440106, 2023, women, 85+.
        c = self.cases
        year = pd.to_datetime(c["onset_day"].astype(np.int64), unit="D").dt.year
        hit = (c["region_code"] == 440106) & (year == 2023) & (c["sex"] == 2) & (c["age_years"] >= 85)
        self.assertGreater(hit.sum(), 0)
        p = self.pop
        gone = (p["region_code"] == 440106) & (p["year"] == 2023) & (p["sex"] == 2) & (p["age_group"] == 17)
        for name, pop, ranks in (("absent", p[~gone], 3), ("zero", p.assign(population=np.where(gone, 0, p["population"])), 1)):
            write_columnar(f"{d}/missing-pop-{name}.h5", pop.reset_index(drop=True), "population")
            if True:
                with self.subTest(name=name, ranks=ranks):
                    out = os.path.join(d, f"missing-{name}-{ranks}.h5")
                    r = pearl("run", JOB, "--input", f"cases={d}/cases-*.h5", "--input",
                              f"population={d}/missing-pop-{name}.h5", "--output", out, "--by", "region,sex,year",
                              "--region-level", "county", ranks=ranks)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    for part in ("region 440106", "year 2023", "sex 2", "age group 17"):
                        self.assertIn(part, r.stderr)
                    self.assertFalse(os.path.exists(out))

    def test_bad_options(self):
        out = os.path.join(self.tmp.name, "bad.h5")
        # (--region-level and --min-cell are core's shared options, unit-tested there.)
        for extra, word in ((["--by", "region,age"], "--by"), (["--standard", "who1990"], "--standard"),
                            (["--per", "0"], "--per")):
            with self.subTest(extra=extra):
                r = pearl("run", JOB, *self.inputs, "--output", out, *extra, ranks=1)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(word, r.stderr)
                self.assertFalse(os.path.exists(out))


class FayFeuerTable1(unittest.TestCase):
    """Fay & Feuer (1997) Table 1 (Down syndrome by birth order, epitools' example)."""
    POP = np.array([[230061, 329449, 114920, 39487, 14208, 3052], [72202, 326701, 208667, 83228, 28466, 5375],
                    [15050, 175702, 207081, 117300, 45026, 8660], [2293, 68800, 132424, 98301, 46075, 9834],
                    [327, 30666, 123419, 149919, 104088, 34392]], dtype=float)
    COUNT = np.array([[107, 141, 60, 40, 39, 25], [25, 150, 110, 84, 82, 39], [3, 71, 114, 103, 108, 75],
                      [1, 26, 64, 89, 137, 96], [0, 8, 63, 112, 262, 295]], dtype=float)
    # Published (rounded to 0.1 per 100 000): crude, adjusted, lower, upper.
    PUBLISHED = np.array([[56.3, 92.3, 80.4, 105.8], [67.6, 91.2, 82.4, 100.9], [83.3, 85.1, 77.2, 94.2],
                          [115.5, 92.7, 80.0, 114.7], [167.1, 75.5, 67.7, 188.3]])

    def test_reference_reproduces_the_published_table(self):
        std = self.POP.mean(axis=0)  # the paper's standard: the average population
        for i in range(5):
            got = np.round(np.array(fay_feuer(self.COUNT[i], self.POP[i], std, 1e5)), 1)
            np.testing.assert_array_equal(got, self.PUBLISHED[i])

    def test_job_on_table1_data_matches_r(self):
        # The five birth orders as five counties; the six maternal-age groups as age groups
        # 3..8 (15-19 ... 40-44); the other groups have people and no cases.
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        regions = [440103, 440104, 440105, 440106, 440111]
        rows, pops, pairs = [], [], []
        for b, region in enumerate(regions):
            d = np.zeros(18, dtype=np.int64)
            n = np.full(18, 150000, dtype=np.int64)
            d[3:9] = self.COUNT[b]
            n[3:9] = self.POP[b]
            pairs.append((d, n))
            for g in range(18):
                pops.append((region, 2023, 2, g, n[g]))
                rows += [(region, 2, 5 * g + 2)] * int(d[g])
        cases = pd.DataFrame(rows, columns=["region_code", "sex", "age_years"]).astype(
            {"region_code": np.uint32, "sex": np.uint8, "age_years": np.uint8})
        cases["disease"] = "Q90"
        cases["onset_day"] = np.int32(DAY_2022 + 365 + 100)
        pop = pd.DataFrame(pops, columns=["region_code", "year", "sex", "age_group", "population"]).astype(
            {"region_code": np.uint32, "year": np.uint16, "sex": np.uint8, "age_group": np.uint8})
        write_compound(f"{tmp.name}/cases.h5", cases, "cases")
        write_columnar(f"{tmp.name}/pop.h5", pop, "population")
        for standard, std, ranks_list in (("who2000", WHO, (1, 4)), ("segi", SEGI, (2,))):
            r = r_ageadjust(pairs, std) * 1e5
            for ranks in ranks_list:
                with self.subTest(standard=standard, ranks=ranks):
                    out = f"{tmp.name}/t1-{standard}-{ranks}.h5"
                    p = pearl("run", JOB, "--input", f"cases={tmp.name}/cases.h5", "--input",
                              f"population={tmp.name}/pop.h5", "--output", out, "--by", "region",
                              "--region-level", "county", "--standard", standard, "--min-cell", "0", ranks=ranks)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    got, _ = read_output(out, "incidence")
                    self.assertEqual(got["region_code"].tolist(), regions)
                    self.assertEqual(got["cases"].tolist(), [int(d.sum()) for d, _ in pairs])
                    self.assertEqual(got["population"].tolist(), [int(n.sum()) for _, n in pairs])
                    np.testing.assert_allclose(got[["crude_rate", "asr", "asr_lower", "asr_upper"]].to_numpy(), r,
                                               rtol=1e-9)


if __name__ == "__main__":
    unittest.main()
