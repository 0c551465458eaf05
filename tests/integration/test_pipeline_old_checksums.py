"""`pearl pipeline` after the input checksum changed from "h64:" (pearl::hash_bytes of each
1 MiB block, chained) to "xxh3:" (label e2e): an output whose provenance still records
"h64:" values is compared by that algorithm, so a touched input with the same bytes keeps
it up to date (no rerun after an upgrade merely because the algorithm changed), and a
touched input with other bytes of the same size still makes it out of date.

The old values are computed here independently, with numpy, and written into the output's
`inputs` attribute in place of the ones pearl recorded, as an older pearl would have."""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import pandas as pd

from pearl_testing import PEARL, builds_launcher_dir, write_columnar, write_compound

MIB = 1 << 20


def mix64(x):
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def h64(path):
    """The old checksum: each block's 8-byte little-endian words (the last zero-padded)
    folded in from 0x9e3779b97f4a7c15 ^ length, the block hashes chained from
    0x243f6a8885a308d3, then the size."""
    with open(path, "rb") as f:
        data = f.read()
    with np.errstate(over="ignore"):
        h = np.uint64(0x243F6A8885A308D3)
        for at in range(0, len(data), MIB):
            block = data[at:at + MIB]
            b = np.uint64(0x9E3779B97F4A7C15 ^ len(block))
            for w in np.frombuffer(block + b"\0" * (-len(block) % 8), dtype="<u8"):
                b = mix64(b ^ w)
            h = mix64(h ^ b)
        h = mix64(h ^ np.uint64(len(data)))
    return f"h64:{int(h):016x}"


def main():
    work = tempfile.mkdtemp(prefix=f"pearl-old-checksums-{os.getpid()}-")
    env = dict(os.environ)
    env["PATH"] = builds_launcher_dir(work) + os.pathsep + os.environ["PATH"]
    rng = np.random.default_rng(5)
    data = os.path.join(work, "data")
    os.makedirs(data)
    # one shard over 1 MiB (two blocks), one small, both layouts
    for i, (rows, write) in enumerate(((70_000, write_columnar), (2_000, write_compound))):
        df = pd.DataFrame({"id": rng.integers(0, 20, rows).astype(np.int64), "v": rng.random(rows)})
        write(f"{data}/in-{i}.h5", df, "t")
    assert os.path.getsize(f"{data}/in-0.h5") > MIB
    pipeline = os.path.join(work, "p.pipeline")
    out = os.path.join(work, "out", "sums.h5")
    with open(pipeline, "w") as f:
        f.write(f"[step sums]\njob = table.aggregate\ninput = table={data}/in-*.h5:/t\n"
                f"options = --by id --sum v\noutput = {out}\n")

    def pipeline_run(*more):
        return subprocess.run([PEARL, "pipeline", "run", pipeline, *more], capture_output=True, text=True,
                              timeout=300, env=env)

    failures = []
    r = pipeline_run()
    if r.returncode != 0:
        sys.exit(f"first run failed: {r.stdout} {r.stderr}")
    with h5py.File(out, "r+") as f:  # as an older pearl recorded them
        inputs = json.loads(f.attrs["inputs"])
        for i in inputs:
            if not i["checksum"].startswith("xxh3:"):
                failures.append(f"recorded checksum {i['checksum']} is not xxh3")
            i["checksum"] = h64(i["path"])
        f.attrs["inputs"] = json.dumps(inputs)

    # touched, same bytes: compared by "h64:", still up to date
    os.utime(f"{data}/in-0.h5", (1, 1))
    os.utime(f"{data}/in-1.h5", (1, 1))
    r = pipeline_run("--dry-run")
    if "nothing to run" not in r.stdout:
        failures.append(f"a touched input with an h64 record reran: {r.stdout} {r.stderr}")

    # other bytes of the same size in the second block of the large shard: out of date
    with open(f"{data}/in-0.h5", "r+b") as f:
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 1]))
    os.utime(f"{data}/in-0.h5", (2, 2))
    r = pipeline_run("--dry-run")
    if "in-0.h5 changed (content checksum)" not in r.stdout:
        failures.append(f"a changed input with an h64 record did not rerun: {r.stdout} {r.stderr}")

    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    try:
        main()
    finally:
        for d in glob.glob(os.path.join(tempfile.gettempdir(), f"pearl-old-checksums-{os.getpid()}-*")):
            shutil.rmtree(d, ignore_errors=True)
