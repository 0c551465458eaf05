#!/usr/bin/python3
"""End-to-end tests of `pearl run data.generate` (docs/data-generator.md).

For each domain the generator runs at 1 and at 3 ranks with the same seed, the 3-rank run
at --memory 1MiB, where the big shards wait on scratch in rounds before they are written
(OutputTable::spill_past); the shards must hold the same tables (compared with h5py, not
bytes), every table of the contract must be
there with the contract's columns and types that convert losslessly, pearl's own reader must
accept every shard variant, and the data must be plausible, with the planted ground truth
(outbreaks, fraud cases, the logistic model) really in it.

Run by CTest with PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS in the environment."""
import csv
import glob
import os
import tempfile
import unittest
from functools import partial

import h5py
import numpy as np

import pearl_testing

pearl = partial(pearl_testing.pearl, ranks=None, timeout=300)  # without a launcher unless given ranks
ROWS, SHARDS, SEED = 20000, 5, 11

CONTRACT = {
    "cases": [("case_id", "u8"), ("person_id", "u8"), ("sex", "u1"), ("age_years", "u1"), ("region_code", "u4"),
              ("disease", "str"), ("onset_day", "i4"), ("report_day", "i4")],
    "population": [("region_code", "u4"), ("year", "u2"), ("sex", "u1"), ("age_group", "u1"), ("population", "i8")],
    "checkups": [("person_id", "u8"), ("exam_day", "i4"), ("sex", "u1"), ("age_years", "u1"), ("bmi", "f4"),
                 ("systolic_bp", "f4"), ("fasting_glucose", "f4"), ("smoker", "u1"), ("diabetes", "u1")],
    "contributions": [("person_id", "u8"), ("employer_id", "u8"), ("region_code", "u4"), ("industry", "u1"),
                      ("month", "i4"), ("insurance", "u1"), ("wage_base", "f8"), ("due", "f8"), ("paid", "f8")],
    "claims": [("claim_id", "u8"), ("person_id", "u8"), ("region_code", "u4"), ("benefit", "u1"),
               ("claim_day", "i4"), ("amount", "f8")],
    "deaths": [("person_id", "u8"), ("death_day", "i4")],
    "unemployment": [("person_id", "u8"), ("region_code", "u4"), ("start_day", "i4"), ("end_day", "i4")],
    "labour_force": [("region_code", "u4"), ("month", "i4"), ("employed", "i8")],
    "taps": [("card_id", "u8"), ("tap_time", "i8"), ("station_id", "u4"), ("line_id", "u2"), ("tap_type", "u1"),
             ("fare", "f8")],
    "stations": [("station_id", "u4"), ("line_id", "u2"), ("name", "str"), ("lon", "f8"), ("lat", "f8")],
    "gps": [("vehicle_id", "u8"), ("time", "i8"), ("lon", "f8"), ("lat", "f8"), ("speed_kmh", "f4"),
            ("occupied", "u1")],
}
DOMAINS = {
    "health": (["cases", "population", "checkups"], ["outbreaks.csv"]),
    "social": (["claims", "contributions", "unemployment", "deaths", "labour_force"],
               ["planted_fraud.csv", "unemployment_surge.csv"]),
    "transport": (["taps", "gps", "stations"], []),
}
CITIES = {440100, 440200, 440300, 440400, 440500, 440600, 440700, 440800, 440900, 441200, 441300, 441400,
          441500, 441600, 441700, 441800, 441900, 442000, 445100, 445200, 445300}


def read_shard(path, table):
    """{column: numpy array} of the table in one shard, strings decoded to str."""
    with h5py.File(path, "r") as f:
        obj = f[table]
        if isinstance(obj, h5py.Group):
            cols = {name: obj[name][()] for name in obj}
            types = {name: obj[name].dtype for name in obj}
        else:
            data = obj[()]
            cols = {name: data[name] for name in obj.dtype.names}
            types = {name: obj.dtype[name] for name in obj.dtype.names}
    out = {}
    for name, v in cols.items():
        if v.dtype.kind in "SO":
            v = np.array([x.decode("utf-8") if isinstance(x, bytes) else x for x in v], dtype=object)
        out[name] = v
    return out, types


def read_table(directory, table):
    shards = sorted(glob.glob(os.path.join(directory, f"{table}-*.h5")))
    parts = [read_shard(p, table)[0] for p in shards]
    return {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}, shards


def is_county(code):
    code = int(code)
    if code in (441900, 442000):
        return True
    return code // 100 * 100 in CITIES and code % 100 != 0


class Generate(unittest.TestCase):
    tmp = None
    dirs = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="pearl-data-")
        for domain in DOMAINS:
            for ranks in (1, 3):
                out = os.path.join(cls.tmp.name, f"{domain}-{ranks}")
                args = ["run", "data.generate", "--domain", domain, "--rows", str(ROWS), "--shards", str(SHARDS),
                        "--seed", str(SEED), "--out-dir", out, *(["--memory", "1MiB"] if ranks == 3 else [])]
                r = pearl(*args, ranks=None if ranks == 1 else ranks)
                if r.returncode != 0:
                    raise AssertionError(f"{domain} at {ranks} ranks failed: {r.stderr}")
                cls.dirs[(domain, ranks)] = (out, r.stdout)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_identical_whatever_the_rank_count(self):
        for domain, (tables, sidecars) in DOMAINS.items():
            one, out1 = self.dirs[(domain, 1)]
            three, out3 = self.dirs[(domain, 3)]
            self.assertEqual(sorted(os.listdir(one)), sorted(os.listdir(three)), domain)
            self.assertIn("total:", out1)
            self.assertEqual(out1.split("\n", 1)[1], out3.split("\n", 1)[1])  # same summary after the header
            for table in tables:
                for path in sorted(glob.glob(os.path.join(one, f"{table}-*.h5"))):
                    a, _ = read_shard(path, table)
                    b, _ = read_shard(os.path.join(three, os.path.basename(path)), table)
                    self.assertEqual(list(a), list(b), path)
                    for c in a:
                        self.assertTrue(np.array_equal(a[c], b[c]), f"{path}: column {c} differs")
            for s in sidecars:
                with open(os.path.join(one, s), "rb") as x, open(os.path.join(three, s), "rb") as y:
                    self.assertEqual(x.read(), y.read(), s)

    def test_contract_tables_columns_and_lossless_types(self):
        variants = set()
        for domain, (tables, _) in DOMAINS.items():
            d, _ = self.dirs[(domain, 1)]
            for table in tables:
                shards = sorted(glob.glob(os.path.join(d, f"{table}-*.h5")))
                self.assertTrue(shards, f"{domain}: no shards of {table}")
                for path in shards:
                    cols, types = read_shard(path, table)
                    self.assertEqual(set(cols), {c for c, _ in CONTRACT[table]}, path)
                    with h5py.File(path, "r") as f:
                        variants.add("group" if isinstance(f[table], h5py.Group) else "compound")
                    for name, want in CONTRACT[table]:
                        v, t = cols[name], types[name]
                        where = f"{path}: {table}.{name} stored as {t}"
                        if want == "str":
                            self.assertTrue(t.kind in "SO", where)
                            variants.add("fixed string" if t.kind == "S" else "vlen string")
                            continue
                        target = np.dtype(want)
                        if target.kind in "iu":
                            self.assertIn(t.kind, "iu", where)
                            if len(v):
                                info = np.iinfo(target)
                                self.assertTrue(int(v.min()) >= info.min and int(v.max()) <= info.max, where)
                        else:
                            self.assertEqual(t.kind, "f", where)
                            self.assertTrue(np.array_equal(v.astype(target).astype(v.dtype), v, equal_nan=True), where)
                        if t != target:
                            variants.add("stored " + str(t))
        for v in ("group", "compound", "fixed string", "vlen string", "stored int16", "stored int64", "stored uint16"):
            self.assertIn(v, variants)

    def test_pearl_reader_accepts_every_shard(self):
        for domain, table, by in [("health", "cases", "disease"), ("health", "checkups", "smoker"),
                                  ("social", "contributions", "insurance"), ("social", "claims", "benefit"),
                                  ("transport", "taps", "tap_type"), ("transport", "stations", "line_id"),
                                  ("transport", "gps", "occupied")]:
            d, _ = self.dirs[(domain, 1)]
            out = os.path.join(self.tmp.name, f"agg-{table}.h5")
            r = pearl("run", "table.aggregate", "--input", f"table={d}/{table}-*.h5:/{table}", "--by", by,
                      "--output", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            data, _ = read_table(d, table)
            with h5py.File(out, "r") as f:
                self.assertEqual(int(f["aggregate/count"][()].sum()), len(data[by]), table)

    def test_empty_and_uneven_shards(self):
        d, _ = self.dirs[("health", 1)]
        sizes = [len(read_shard(p, "cases")[0]["case_id"]) for p in sorted(glob.glob(f"{d}/cases-*.h5"))]
        self.assertEqual(len(sizes), SHARDS)
        self.assertEqual(sum(sizes), ROWS)
        self.assertEqual(sizes[3], 0)
        self.assertGreater(len(set(sizes)), 2)

    def test_health_plausible_and_truth_planted(self):
        d, _ = self.dirs[("health", 1)]
        cases, _ = read_table(d, "cases")
        self.assertEqual(len(cases["case_id"]), ROWS)
        self.assertEqual(len(np.unique(cases["case_id"])), ROWS)
        self.assertTrue(all(is_county(c) for c in np.unique(cases["region_code"])))
        self.assertTrue((cases["onset_day"] <= cases["report_day"]).all())
        self.assertTrue((cases["report_day"] - cases["onset_day"] <= 7).all())
        self.assertTrue(set(np.unique(cases["sex"])) == {1, 2} and cases["age_years"].max() <= 120)
        month = (cases["onset_day"].astype("datetime64[D]").astype("datetime64[M]").astype(int) % 12) + 1
        dis = cases["disease"]
        # Seasonality: dengue in summer–autumn, influenza in winter, HFMD in young children.
        self.assertGreater(np.isin(month[dis == "A90"], [7, 8, 9, 10, 11]).mean(), 0.7)
        self.assertGreater(np.isin(month[dis == "J11"], [12, 1, 2]).mean(), 0.35)
        self.assertGreater((cases["age_years"][dis == "B08.4"] <= 5).mean(), 0.9)
        pop, _ = read_table(d, "population")
        self.assertTrue(all(is_county(c) for c in np.unique(pop["region_code"])))
        self.assertTrue((pop["population"] > 0).all() and set(np.unique(pop["age_group"])) == set(range(18)))
        self.assertTrue(1.2e8 < pop["population"][pop["year"] == 2023].sum() < 1.3e8)
        with open(os.path.join(d, "outbreaks.csv")) as f:
            outbreaks = list(csv.DictReader(f))
        self.assertGreaterEqual(len(outbreaks), 3)
        for o in outbreaks:
            sel = ((cases["region_code"] == int(o["region_code"])) & (dis == o["disease"]) &
                   (cases["onset_day"] >= int(o["first_day"])) & (cases["onset_day"] <= int(o["last_day"])))
            self.assertGreaterEqual(sel.sum(), int(o["injected_cases"]), o)
            self.assertGreater(int(o["injected_cases"]), 5 * float(o["expected_baseline"]), o)

    def test_checkups_follow_the_documented_logistic_model(self):
        d, _ = self.dirs[("health", 1)]
        c, _ = read_table(d, "checkups")
        x = np.column_stack([np.ones(len(c["age_years"])), c["age_years"], c["bmi"], c["systolic_bp"],
                             c["smoker"]]).astype(float)
        y = c["diabetes"].astype(float)
        beta = np.zeros(x.shape[1])
        for _ in range(30):  # IRLS
            p = 1 / (1 + np.exp(-x @ beta))
            w = p * (1 - p)
            beta = np.linalg.solve(x.T @ (x * w[:, None]), x.T @ (w * (x @ beta) + y - p))
        se = np.sqrt(np.diag(np.linalg.inv(x.T @ (x * w[:, None]))))
        truth = np.array([-9.0, 0.045, 0.12, 0.015, 0.35])
        self.assertTrue((np.abs(beta - truth) < 4 * se).all(), (beta, truth, se))
        self.assertTrue(((c["fasting_glucose"] >= 7.0) == (c["diabetes"] == 1)).all())

    def test_social_plausible_and_fraud_planted(self):
        d, _ = self.dirs[("social", 1)]
        claims, _ = read_table(d, "claims")
        contrib, _ = read_table(d, "contributions")
        deaths, _ = read_table(d, "deaths")
        unemp, _ = read_table(d, "unemployment")
        lf, _ = read_table(d, "labour_force")
        self.assertEqual(len(claims["claim_id"]), ROWS)
        self.assertEqual(len(np.unique(claims["claim_id"])), ROWS)
        for t in (claims, contrib, unemp, lf):
            self.assertTrue(all(is_county(c) for c in np.unique(t["region_code"])))
        self.assertEqual(set(np.unique(claims["benefit"])), {1, 2, 3, 4})
        self.assertEqual(set(np.unique(contrib["insurance"])), {1, 2, 3, 4, 5})
        self.assertTrue(contrib["industry"].min() >= 1 and contrib["industry"].max() <= 20)
        self.assertTrue((contrib["paid"] <= contrib["due"] + 0.005).all())
        full = (contrib["paid"] >= contrib["due"] - 0.005).mean()
        none = ((contrib["paid"] == 0) & (contrib["due"] > 0)).mean()
        self.assertTrue(0.8 < full < 0.99 and 0 < none < 0.05, (full, none))
        self.assertTrue((unemp["end_day"] == -1).any() and (unemp["end_day"][unemp["end_day"] >= 0] >
                                                            unemp["start_day"][unemp["end_day"] >= 0]).all())
        self.assertTrue((lf["employed"] > 0).all())
        death_of = dict(zip(deaths["person_id"].tolist(), deaths["death_day"].tolist()))
        with open(os.path.join(d, "planted_fraud.csv")) as f:
            planted = list(csv.DictReader(f))
        rules = {p["rule"] for p in planted}
        self.assertEqual(rules, {"paid_after_death", "concurrent_claims", "ui_while_employed", "amount_outlier"})
        index = {cid: i for i, cid in enumerate(claims["claim_id"].tolist())}
        month = lambda day: int(np.datetime64(int(day), "D").astype("datetime64[M]").astype(str).replace("-", ""))
        for p in planted:
            i = index[int(p["claim_id"])]
            person, day = int(claims["person_id"][i]), int(claims["claim_day"][i])
            if p["rule"] == "paid_after_death":
                self.assertGreater(day, death_of[person] + 31)
            elif p["rule"] == "concurrent_claims":
                same = ((claims["person_id"] == person) & (claims["benefit"] == claims["benefit"][i]) &
                        (np.array([month(x) for x in claims["claim_day"]]) == month(day)))
                self.assertGreaterEqual(len({int(r) // 100 for r in claims["region_code"][same]}), 2)
            elif p["rule"] == "ui_while_employed":
                self.assertEqual(claims["benefit"][i], 2)
                sel = ((contrib["person_id"] == person) & (contrib["month"] == month(day)) &
                       (contrib["insurance"] == 1) & (contrib["paid"] > 0))
                self.assertTrue(sel.any())
            else:
                medical = claims["amount"][claims["benefit"] == 3]
                self.assertGreater(claims["amount"][i], 20 * np.median(medical))
        # No natural claim after death: only planted ones are paid after death.
        late = [cid for cid, pid, day in zip(claims["claim_id"].tolist(), claims["person_id"].tolist(),
                                             claims["claim_day"].tolist()) if pid in death_of and day > death_of[pid]]
        self.assertEqual(set(late), {int(p["claim_id"]) for p in planted if p["rule"] == "paid_after_death"})

    def test_transport_plausible(self):
        d, _ = self.dirs[("transport", 1)]
        taps, _ = read_table(d, "taps")
        st, _ = read_table(d, "stations")
        gps, _ = read_table(d, "gps")
        self.assertEqual(set(np.unique(taps["tap_type"])), {1, 2, 3})
        self.assertTrue((taps["fare"][taps["tap_type"] == 1] == 0).all())
        self.assertTrue((taps["fare"][taps["tap_type"] == 2] >= 2).all())
        metro = taps["tap_type"] != 3
        self.assertTrue(np.isin(taps["station_id"][metro], st["station_id"]).all())
        hour = ((taps["tap_time"] + 28800) % 86400) // 3600
        entries = hour[taps["tap_type"] == 1]
        self.assertGreater(np.isin(entries, [7, 8, 17, 18, 19]).mean(), 0.4)  # peaks
        self.assertTrue({"罗湖", "深圳北站", "世界之窗"} <= set(st["name"]))
        self.assertEqual(set(np.unique(st["line_id"])), {1, 2, 3, 4, 5})
        self.assertTrue(((st["lon"] > 113.6) & (st["lon"] < 114.8) & (st["lat"] > 22.4) & (st["lat"] < 22.9)).all())
        inside = (gps["lon"] >= 113.6) & (gps["lon"] <= 114.8) & (gps["lat"] >= 22.4) & (gps["lat"] <= 22.9)
        self.assertTrue(0.98 < inside.mean() < 1.0)
        speed = gps["speed_kmh"]
        self.assertTrue(((speed < 0) | (speed > 120)).any())
        pairs = gps["vehicle_id"].astype(np.uint64).astype(object) * 10**10 + gps["time"].astype(object)
        self.assertLess(len(set(pairs.tolist())), len(pairs))  # duplicate pings exist
        ok = inside & (speed > 0) & (speed <= 120)
        local = ((gps["time"] + 28800) % 86400) / 3600
        rush = speed[ok & (local >= 7.5) & (local < 9)].mean()
        free = speed[ok & (local >= 21)].mean()
        self.assertLess(rush, 0.75 * free)


if __name__ == "__main__":
    unittest.main(verbosity=2)
