"""Pages rendered in headless Chromium (Debian's `chromium`) for the report tests.

render(page, name) loads file://PAGE with a fresh profile and returns the DOM after
rendering (--dump-dom) and the console messages: Chromium runs with
--enable-logging=stderr, which prints each of them as a "CONSOLE" line (an uncaught error
as "Uncaught ..."). It also keeps a screenshot, NAME.png in $PEARL_REPORT_SHOTS (default
./report-screenshots), for CI artefacts and the docs."""
import os
import subprocess
import tempfile

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("PEARL_REPORT_SHOTS", os.path.join(os.getcwd(), "report-screenshots"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]


def render(page, name, window="1200,2400"):
    """(DOM text, console lines) of `page`; raises when Chromium fails."""
    os.makedirs(SHOTS, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:  # a fresh profile each time
        common = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}"]
        dom = subprocess.run([*common, "--dump-dom", f"file://{page}"], capture_output=True, text=True, timeout=120)
        if dom.returncode != 0:
            raise RuntimeError(f"chromium --dump-dom {page}: exit {dom.returncode}\n{dom.stderr[-2000:]}")
        subprocess.run([*common, f"--screenshot={SHOTS}/{name}.png", f"--window-size={window}", f"file://{page}"],
                       capture_output=True, text=True, timeout=120)
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    return dom.stdout, console
