"""The index page of a pipeline run, end to end (label e2e): `pearl pipeline run` on this
machine writes RUN_DIR/index.html, and `pearl pipeline report FILE|RUN_DIR [-o PAGE]`
writes it again, anywhere. Checked against the run directory's own task records (the
files `pearl pipeline status` reads):

- every task is one row with the state its record holds (done, failed, never started,
  and on a second run skipped), a fan-out task once per value;
- a done or skipped task links its output's report, which exists and is `pearl report`'s
  page for that output; a failed task links its log (the recorded one) and shows its
  first error line;
- every link resolves from where the page is, also for a page written with -o elsewhere;
- the page renders in headless Chromium with no console messages (screenshot kept);
- a directory that is not a run directory is refused with exit 2.
"""
import glob
import html.parser
import os
import re
import shutil
import tempfile
import unittest
import urllib.parse

from chromium import render
from pearl_testing import builds_launcher_dir, pearl, pipeline_records as records

ENV = dict(os.environ)


def run(*args):
    return pearl(*args, ranks=None, timeout=600, env=ENV)


class Index(html.parser.HTMLParser):
    """The task rows of an index page: {step: {"state": ..., "links": {text: href}, "text": ...}}."""

    def __init__(self):
        super().__init__()
        self.rows, self.row, self.href = {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "task":
            self.row = self.rows.setdefault(a["data-step"], {"state": a["data-state"], "links": {}, "text": ""})
        elif tag == "a" and self.row is not None:
            self.href = a["href"]

    def handle_endtag(self, tag):
        if tag == "tr":
            self.row = None
        if tag == "a":
            self.href = None

    def handle_data(self, data):
        if self.row is not None:
            self.row["text"] += data
            if self.href is not None:
                self.row["links"][data] = self.href


def target(page, href):
    return os.path.normpath(os.path.join(os.path.dirname(page), urllib.parse.unquote(href)))


class PipelineIndexTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="pearl-index-")
        ENV["PATH"] = builds_launcher_dir(cls.work) + os.pathsep + os.environ["PATH"]
        cls.data, cls.out = os.path.join(cls.work, "data"), os.path.join(cls.work, "out")
        r = run("run", "data.generate", "--domain", "health", "--rows", "4000", "--shards", "2", "--seed", "3",
                "--out-dir", cls.data, "--quiet")
        assert r.returncode == 0, r.stderr
        cls.file = os.path.join(cls.work, "night.pipeline")
        with open(cls.file, "w") as f:
            f.write(f"""[pipeline]
runs = {cls.work}/runs
[variables]
out = {cls.out}
[defaults]
tasks = 1
[step incidence]
job = health.incidence
input = cases={cls.data}/cases-*.h5
input = population={cls.data}/population-*.h5
output = ${{out}}/incidence.h5
[step broken]
job = table.aggregate
input = table=${{out}}/incidence.h5:/incidence
options = --by disease --sum no_such_column
output = ${{out}}/broken.h5
[step after_broken]
job = table.aggregate
input = table=${{out}}/broken.h5:/aggregate
options = --by disease
output = ${{out}}/after.h5
[step counts]
job = table.aggregate
after = incidence
for_each = key: sex disease
input = table={cls.data}/cases-*.h5:/cases
options = --by ${{key}}
output = ${{out}}/counts-${{key}}.h5
""")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def run_pipeline(self):
        r = run("pipeline", "run", self.file)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)  # a step fails
        m = re.search(r"^index (.+)$", r.stdout, re.M)
        self.assertIsNotNone(m, f"pipeline run names no index page:\n{r.stdout}")
        run_dir = max(glob.glob(os.path.join(self.work, "runs", "*")))
        page = os.path.join(os.getcwd(), m.group(1)) if not os.path.isabs(m.group(1)) else m.group(1)
        self.assertEqual(os.path.realpath(page), os.path.realpath(os.path.join(run_dir, "index.html")))
        return run_dir, page

    def check_page(self, page, run_dir, shot):
        dom, console = render(page, shot, window="1200,700")
        self.assertEqual(console, [], f"console messages of {page}")
        p = Index()
        p.feed(dom)
        recs = records(run_dir)
        self.assertEqual(sorted(p.rows), sorted(recs), "one row per task of the run")
        for label, rec in recs.items():
            row = p.rows[label]
            self.assertEqual(row["state"], rec["state"], label)
            if rec["state"] in ("done", "skipped"):
                self.assertIn("report", row["links"], f"{label}: no report link in {row}")
                report = target(page, row["links"]["report"])
                self.assertTrue(os.path.isfile(report), f"{label}: {report} missing")
                text = open(report, encoding="utf-8").read()
                self.assertIn(f": {os.path.basename(rec['output'])}</h1>", text, f"{label}: not its output's report")
                self.assertIn('<svg class="chart"', text, label)
            else:
                self.assertNotIn("report", row["links"], f"{label} ({rec['state']}) links a report")
            if rec["state"] == "failed":
                self.assertEqual(target(page, row["links"][rec["log"]]), os.path.normpath(rec["log"]))
                self.assertIn("no_such_column", row["text"], f"{label}: no first error line")
        return p

    def test_run_writes_the_index(self):
        run_dir, page = self.run_pipeline()
        p = self.check_page(page, run_dir, "pipeline-index")
        self.assertEqual({k: v["state"] for k, v in p.rows.items()},
                         {"incidence": "done", "broken": "failed", "after_broken": "never started",
                          "counts[sex]": "done", "counts[disease]": "done"})
        # the incidence step's report is the job's page, with its map
        incidence = open(target(page, p.rows["incidence"]["links"]["report"]), encoding="utf-8").read()
        self.assertIn("tile map of Guangdong", incidence)

        # again: what finished is skipped and still links its report; the failure fails again
        run_dir, page = self.run_pipeline()
        p = self.check_page(page, run_dir, "pipeline-index-again")
        self.assertEqual(p.rows["incidence"]["state"], "skipped")
        self.assertEqual(p.rows["counts[sex]"]["state"], "skipped")
        self.assertEqual(p.rows["broken"]["state"], "failed")

        # written elsewhere from the pipeline file: its newest run, links from the new place
        elsewhere = os.path.join(self.work, "www", "night.html")
        os.makedirs(os.path.dirname(elsewhere))
        r = run("pipeline", "report", self.file, "-o", elsewhere)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isdir(os.path.join(self.work, "www", "night-reports")))
        self.check_page(elsewhere, run_dir, "pipeline-index-elsewhere")
        r = run("pipeline", "report", run_dir, "-o", elsewhere)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_not_a_run_directory(self):
        r = run("pipeline", "report", self.data)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("is not a pipeline run directory", r.stderr)


if __name__ == "__main__":
    unittest.main()
