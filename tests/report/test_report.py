"""`pearl report` for every built-in job's output, rendered in headless Chromium: the page
loads with no console errors, and every chart drew its data (each <svg class="chart">
holds as many elements of class "mark" as its data-marks says, and at least one). The
job-specific charts are checked by their titles. Screenshots are kept in
$PEARL_REPORT_SHOTS (default: build/report-screenshots) for CI artefacts and the docs.

Chromium runs with --enable-logging=stderr, which prints every console message
("CONSOLE" lines); the DOM after rendering comes from --dump-dom."""
import html.parser
import os
import subprocess
import tempfile
import unittest

from pearl_testing import pearl

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("PEARL_REPORT_SHOTS", os.path.join(os.getcwd(), "report-screenshots"))

# job -> (inputs (table, domain, file stem[:/path]), extra options, chart titles expected)
JOBS = {
    "health.incidence": ([("cases", "health", "cases"), ("population", "health", "population")], [],
                         ["Incidence by"]),
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
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


class Charts(html.parser.HTMLParser):
    """The charts of a rendered page: [declared marks, marks found, title]."""

    def __init__(self):
        super().__init__()
        self.charts, self.in_chart, self.in_title, self.depth = [], False, False, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "chart" in a.get("class", ""):
            self.charts.append([int(a["data-marks"]), 0, ""])
            self.in_chart = True
        elif self.in_chart and "mark" in (a.get("class") or "").split():
            self.charts[-1][1] += 1
        self.in_title = self.in_chart and tag == "text" and a.get("class") == "title"

    def handle_endtag(self, tag):
        if tag == "svg":
            self.in_chart = False
        self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.charts[-1][2] += data


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        os.makedirs(SHOTS, exist_ok=True)
        for domain in ("health", "social", "transport"):
            r = pearl("run", "data.generate", "--domain", domain, "--rows", "20000", "--shards", "2", "--seed", "1",
                      "--out-dir", f"{cls.dir.name}/{domain}", "--quiet")
            assert r.returncode == 0, r.stderr

    def render(self, page, name):
        with tempfile.TemporaryDirectory() as profile:  # a fresh profile each time
            common = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
            dom = subprocess.run([*common, "--dump-dom", f"file://{page}"], capture_output=True, text=True,
                                 timeout=120)
            self.assertEqual(dom.returncode, 0, dom.stderr[-2000:])
            subprocess.run([*common, f"--screenshot={SHOTS}/{name}.png", "--window-size=1200,2400",
                            f"file://{page}"], capture_output=True, text=True, timeout=120)
        console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
        return dom.stdout, console

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
                page = f"{self.dir.name}/{job}.html"
                r = pearl("report", out, "-o", page)
                self.assertEqual(r.returncode, 0, r.stderr)
                dom, console = self.render(page, job)
                self.assertEqual(console, [], f"console messages of {job}'s report")
                p = Charts()
                p.feed(dom)
                self.assertGreater(len(p.charts), 0, job)
                for declared, found, title in p.charts:
                    self.assertGreater(found, 0, f"{job}: chart '{title}' drew nothing")
                    self.assertEqual(found, declared, f"{job}: chart '{title}'")
                for t in titles:
                    self.assertTrue(any(c[2].startswith(t) for c in p.charts), f"{job}: no chart '{t}' in "
                                    f"{[c[2] for c in p.charts]}")
                # the run's metrics lie beside the output: the page shows the run too
                self.assertTrue(any(c[2].startswith("Stages per rank") for c in p.charts), job)

    def test_not_an_output(self):
        r = pearl("report", f"{self.dir.name}/health/cases-0000.h5", "-o", f"{self.dir.name}/x.html")
        self.assertEqual(r.returncode, 2)
        self.assertIn("is not a pearl output", r.stderr)


if __name__ == "__main__":
    unittest.main()
