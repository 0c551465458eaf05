"""`pearl report` for every built-in job's output, rendered in headless Chromium: the page
loads with no console errors, and every chart drew its data (each <svg class="chart">
holds as many elements of class "mark" as its data-marks says, and at least one). The
job-specific charts are checked by their titles. The tile map of Guangdong's cities
(health.incidence) has one tile with data per city: 21 on the generated data, grey tiles
for cities an output lacks, and county rows summed into the same rates as the job's own
city-level run. Screenshots are kept in $PEARL_REPORT_SHOTS (default:
build/report-screenshots) for CI artefacts and the docs (chromium.py)."""
import html.parser
import re
import tempfile
import unittest

import h5py

from chromium import render
from pearl_testing import pearl, read_output

# job -> (inputs (table, domain, file stem[:/path]), extra options, chart titles expected)
JOBS = {
    "health.incidence": ([("cases", "health", "cases"), ("population", "health", "population")], [],
                         ["Incidence by", "Crude incidence per 100 000 by city: tile map"]),
    "health.outbreak": ([("cases", "health", "cases")], [], ["EARS alarms per key", "Epidemic curve of"]),
    "health.risk_model": ([("checkups", "health", "checkups")], [], ["Odds ratios with 95% intervals"]),
    "social.anomalies": ([("claims", "social", "claims"), ("deaths", "social", "deaths")], [],
                         ["Flagged claims by rule", "Flagged amount by rule"]),
    "social.compliance": ([("contributions", "social", "contributions")], [],
                          ["Collection rate by region", "Arrears by region"]),
    "social.unemployment": ([("unemployment", "social", "unemployment"), ("labour_force", "social", "labour_force")],
                            [], ["Unemployment rate, region"]),
    "transport.od": ([("taps", "transport", "taps")], [], ["Trips origin (rows) to destination"]),
    "transport.flow": ([("gps", "transport", "gps")], [], ["Congestion (mean travel time index) by hour",
                                                           "Travel time index summed by grid cell"]),
    "table.aggregate": ([("table", "health", "cases:/cases")], ["--by", "region_code", "--sum", "age_years"],
                        ["sum_age_years by region_code"]),
}


class Charts(html.parser.HTMLParser):
    """The charts of a rendered page: [declared marks, marks found, title]."""

    def __init__(self):
        super().__init__()
        self.charts, self.in_chart, self.in_title, self.depth = [], False, False, 0
        self.tiles = []  # the tooltip of every map tile, in order
        self.in_tile_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "chart" in a.get("class", ""):
            self.charts.append([int(a["data-marks"]), 0, ""])
            self.in_chart = True
        elif self.in_chart and "mark" in (a.get("class") or "").split():
            self.charts[-1][1] += 1
        self.in_title = self.in_chart and tag == "text" and a.get("class") == "title"
        if tag == "g" and a.get("class") == "tile":
            self.tiles.append("")
        self.in_tile_title = tag == "title" and self.tiles != [] and self.tiles[-1] == ""

    def handle_endtag(self, tag):
        if tag == "svg":
            self.in_chart = False
        self.in_title = self.in_tile_title = False

    def handle_data(self, data):
        if self.in_title:
            self.charts[-1][2] += data
        if self.in_tile_title:
            self.tiles[-1] += data

    def chart(self, title):
        """[declared, found, title] of the chart whose title starts with `title`."""
        return next((c for c in self.charts if c[2].startswith(title)), None)


MAP = "Crude incidence per 100 000 by city: tile map"


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        for domain in ("health", "social", "transport"):
            r = pearl("run", "data.generate", "--domain", domain, "--rows", "20000", "--shards", "2", "--seed", "1",
                      "--out-dir", f"{cls.dir.name}/{domain}", "--quiet")
            assert r.returncode == 0, r.stderr

    def report_of(self, out, name):
        """`pearl report` of `out` rendered in Chromium (no console messages), parsed."""
        page = f"{self.dir.name}/{name}.html"
        r = pearl("report", out, "-o", page)
        self.assertEqual(r.returncode, 0, r.stderr)
        dom, console = render(page, name)
        self.assertEqual(console, [], f"console messages of {name}'s report")
        p = Charts()
        p.feed(dom)
        return p

    def test_every_job(self):
        for job, (inputs, extra, titles) in JOBS.items():
            with self.subTest(job=job):
                out = f"{self.dir.name}/{job}.h5"
                args = []
                for table, domain, stem in inputs:
                    file, _, path = stem.partition(":")
                    args += ["--input", f"{table}={self.dir.name}/{domain}/{file}-*.h5" + (f":{path}" if path else "")]
                r = pearl("run", job, *args, *extra, "--output", out, "--quiet", ranks=2)
                self.assertEqual(r.returncode, 0, r.stderr)
                p = self.report_of(out, job)
                self.assertGreater(len(p.charts), 0, job)
                for declared, found, title in p.charts:
                    self.assertGreater(found, 0, f"{job}: chart '{title}' drew nothing")
                    self.assertEqual(found, declared, f"{job}: chart '{title}'")
                for t in titles:
                    self.assertTrue(any(c[2].startswith(t) for c in p.charts), f"{job}: no chart '{t}' in "
                                    f"{[c[2] for c in p.charts]}")
                # the run's metrics lie beside the output: the page shows the run too
                self.assertTrue(any(c[2].startswith("Stages per rank") for c in p.charts), job)

    def incidence(self, name, *extra):
        out = f"{self.dir.name}/{name}.h5"
        d = self.dir.name
        r = pearl("run", "health.incidence", "--input", f"cases={d}/health/cases-*.h5", "--input",
                  f"population={d}/health/population-*.h5", *extra, "--output", out, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        return out

    def map_of(self, out, name):
        p = self.report_of(out, name)
        self.assertIsNotNone(p.chart(MAP), f"{name}: no map in {[c[2] for c in p.charts]}")
        self.assertEqual(len(p.tiles), 21, f"{name}: one tile per city")
        self.assertTrue(all(": " in t for t in p.tiles), f"{name}: a tile without its tooltip: {p.tiles}")
        return p

    def test_map_every_city(self):
        """Every city has data: 21 coloured tiles, each tooltip the city's crude rate of the
        stratum with the most cases, as the job published it."""
        out = self.incidence("map-city", "--by", "region,disease,year")
        p = self.map_of(out, "map-city")
        declared, found, _ = p.chart(MAP)
        self.assertEqual((declared, found), (21, 21))
        df, _ = read_output(out, "incidence")
        df["disease"] = df["disease"].astype(str)
        top = df[df.cases > 0].groupby(["disease", "year"]).cases.sum().idxmax()
        rows = df[(df.disease == top[0]) & (df.year == top[1])].set_index("region_code")
        for tip in p.tiles:
            code = int(re.search(r"\((\d{6})\)", tip).group(1))
            shown = float(re.search(r": ([0-9.e+-]+) per 100 000", tip).group(1))
            self.assertAlmostEqual(shown, rows.loc[code, "crude_rate"], delta=abs(shown) * 1e-3, msg=tip)

    def test_map_counties_and_missing_cities(self):
        """County rows add up to their city's rate (the job's own city-level figure), and a
        city the output lacks is a grey "no data" tile, not a coloured one."""
        city = self.incidence("map-ref", "--by", "region,year", "--min-cell", "0")
        county = self.incidence("map-county", "--by", "region,year", "--min-cell", "0", "--region-level", "county")
        # drop Shanwei's counties from the county-level output (as if none of its rows came)
        with h5py.File(county, "r+") as f:
            g = f["incidence"]
            keep = (g["region_code"][:] // 100) != 4415
            for name in list(g):
                data = g[name][:][keep]
                attrs = dict(g[name].attrs)
                del g[name]
                g.create_dataset(name, data=data)
                for k, v in attrs.items():
                    g[name].attrs[k] = v
        # the year the map shows: the one with the most cases in what is left
        top = read_output(county, "incidence")[0].groupby("year").cases.sum().idxmax()
        ref, _ = read_output(city, "incidence")
        ref = ref[ref.year == top].set_index("region_code")
        p = self.map_of(county, "map-county")
        declared, found, _ = p.chart(MAP)
        self.assertEqual((declared, found), (20, 20))
        for tip in p.tiles:
            code = int(re.search(r"\((\d{6})\)", tip).group(1))
            if code == 441500:
                self.assertTrue(tip.endswith("no data"), tip)
                continue
            shown = float(re.search(r": ([0-9.e+-]+) per 100 000", tip).group(1))
            self.assertAlmostEqual(shown, ref.loc[code, "crude_rate"], delta=abs(shown) * 1e-3, msg=tip)

    def test_not_an_output(self):
        r = pearl("report", f"{self.dir.name}/health/cases-0000.h5", "-o", f"{self.dir.name}/x.html")
        self.assertEqual(r.returncode, 2)
        self.assertIn("is not a pearl output", r.stderr)


if __name__ == "__main__":
    unittest.main()
