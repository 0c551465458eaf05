"""The content checksums an output records for its inputs (attribute `inputs`, what
`pearl pipeline` compares when a shard was touched) are the checksum's definition, the
same at every rank count, and change with one changed byte. The ranks share the hashing
by 1 MiB blocks across all inputs, so shards of several MiB, one under 1 MiB and an empty
table are used, at 1, 2 and 3 ranks, with the checksum cache off (so every run hashes).
With the cache on, a second run over the same files takes every checksum from it, and a
file rewritten to the same size with its old modification time put back is hashed again.

The definition, computed here with Python's xxhash (python3-xxhash): each 1 MiB block
(the last one shorter) hashed by XXH3 (64-bit), then XXH3 of those hashes as 8-byte
little-endian words in order, seeded with the file's size; "xxh3:" and 16 hex digits."""
import json
import os
import shutil
import struct
import tempfile
import time
import unittest

import h5py
import numpy as np
import pandas as pd
import xxhash

from pearl_testing import pearl, write_columnar, write_compound

MIB = 1 << 20


def checksum(path):
    with open(path, "rb") as f:
        data = f.read()
    blocks = [xxhash.xxh3_64_intdigest(data[at:at + MIB]) for at in range(0, len(data), MIB)]
    words = struct.pack(f"<{len(blocks)}Q", *blocks)
    return f"xxh3:{xxhash.xxh3_64_intdigest(words, seed=len(data)):016x}"


def shard(rng, rows):
    return pd.DataFrame({"id": rng.integers(0, 50, rows).astype(np.int64), "v": rng.random(rows)})


def run_job(test, glob, ranks, out, cache="off"):
    """table.aggregate over `glob` into `out` with the checksum cache `cache` ("off": none):
    the checksums recorded for its inputs by file name, and its --verbose stderr."""
    r = pearl("run", "table.aggregate", "--input", f"table={glob}:/t", "--by", "id", "--sum", "v",
              "--output", out, "--verbose", ranks=ranks, env=dict(os.environ, PEARL_CHECKSUM_CACHE=cache))
    test.assertEqual(r.returncode, 0, r.stderr)
    with h5py.File(out, "r") as f:
        return {os.path.basename(i["path"]): i["checksum"] for i in json.loads(f.attrs["inputs"])}, r.stderr


class InputChecksumsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        rng = np.random.default_rng(11)
        writers = (write_columnar, write_compound)  # both layouts, in turn
        rows = (400_000, 90_000, 3_000, 0, 150_000)  # 6.4 MB down to an empty table
        for i, n in enumerate(rows):
            writers[i % 2](f"{cls.dir.name}/in-{i}.h5", shard(rng, n), "t")
        cls.glob = f"{cls.dir.name}/in-*.h5"

    def recorded(self, glob, ranks, name):
        sums, err = run_job(self, glob, ranks, f"{self.dir.name}/{name}.h5")
        self.assertNotIn("checksum cache", err)
        return sums

    def test_the_definition_at_every_rank_count_and_a_changed_byte_changes_it(self):
        files = sorted(os.listdir(self.dir.name))
        sizes = [os.path.getsize(f"{self.dir.name}/{f}") for f in files]
        self.assertGreater(max(sizes), 4 * MIB)
        self.assertLess(min(sizes), MIB)
        want = {f: checksum(f"{self.dir.name}/{f}") for f in files}
        for ranks in (1, 2, 3):
            self.assertEqual(self.recorded(self.glob, ranks, f"out-{ranks}"), want, f"at {ranks} rank(s)")

        # one byte more at the end of the largest shard: the same table, other bytes
        changed = f"{self.dir.name}/changed"
        os.makedirs(changed)
        for f in files:
            shutil.copy(f"{self.dir.name}/{f}", changed)
        with open(f"{changed}/in-0.h5", "r+b") as f:
            f.seek(0, os.SEEK_END)
            f.write(b"\0")  # trailing bytes past the end of the HDF5 data: the table reads the same
        got = self.recorded(f"{changed}/in-*.h5", 2, "changed")
        self.assertNotEqual(got["in-0.h5"], want["in-0.h5"])
        self.assertEqual(got["in-0.h5"], checksum(f"{changed}/in-0.h5"))
        self.assertEqual({k: v for k, v in got.items() if k != "in-0.h5"},
                         {k: v for k, v in want.items() if k != "in-0.h5"})


class ChecksumCacheTest(unittest.TestCase):
    def test_a_second_run_takes_them_from_the_cache_and_a_changed_file_is_hashed_again(self):
        with tempfile.TemporaryDirectory() as d:
            rng = np.random.default_rng(12)
            for i, n in enumerate((300_000, 2_000, 60_000)):
                write_columnar(f"{d}/in-{i}.h5", shard(rng, n), "t")
            cache = f"{d}/cache"
            files = sorted(n for n in os.listdir(d) if n.endswith(".h5"))
            want = {f: checksum(f"{d}/{f}") for f in files}
            def job(ranks, name):
                return run_job(self, f"{d}/in-*.h5", ranks, f"{d}/{name}.out", cache)
            # Files changed less than 2 s ago are not remembered (their times could hide a
            # change made within the same second): checked when the run was over within 2 s
            # of the files' last change (the unit test checks it whatever the timing).
            for f in files:
                os.utime(f"{d}/{f}")
            changed = max(os.stat(f"{d}/{f}").st_ctime for f in files)
            first, err = job(2, "fresh")
            self.assertEqual(first, want)
            self.assertNotIn("checksum cache", err)
            if time.time() < changed + 2:
                self.assertFalse(os.path.exists(cache) and os.listdir(cache), "nothing remembered yet")
            time.sleep(max(0.0, changed + 2.2 - time.time()))
            self.assertEqual(job(2, "first")[0], want)
            self.assertEqual(len(os.listdir(cache)), 3)
            for ranks in (1, 3):
                got, err = job(ranks, f"cached-{ranks}")
                self.assertIn("input checksums: 3 of 3 files from the checksum cache", err)
                self.assertEqual(got, want)
            # The same size, other bytes (a value of column v, in place), the old
            # modification time put back: hashed again.
            path = f"{d}/in-0.h5"
            st = os.stat(path)
            with h5py.File(path, "r") as f:
                at = f["t/v"].id.get_offset()  # contiguous: the column's bytes in the file
            with open(path, "r+b") as f:
                f.seek(at)
                f.write(struct.pack("<d", 0.5))
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
            self.assertEqual(os.stat(path).st_mtime_ns, st.st_mtime_ns)
            got, err = job(2, "changed")
            self.assertIn("input checksums: 2 of 3 files from the checksum cache", err)
            self.assertEqual(got["in-0.h5"], checksum(path))
            self.assertNotEqual(got["in-0.h5"], want["in-0.h5"])
            self.assertEqual({k: v for k, v in got.items() if k != "in-0.h5"},
                             {k: v for k, v in want.items() if k != "in-0.h5"})


if __name__ == "__main__":
    unittest.main()
