"""The content checksums an output records for its inputs (attribute `inputs`, what
`pearl pipeline` compares when a shard was touched) are the checksum's definition, the
same at every rank count, and change with one changed byte. The ranks share the hashing
by 1 MiB blocks across all inputs, so shards of several MiB, one under 1 MiB and an empty
table are used, at 1, 2 and 3 ranks.

The definition, computed here with Python's xxhash (python3-xxhash): each 1 MiB block
(the last one shorter) hashed by XXH3 (64-bit), then XXH3 of those hashes as 8-byte
little-endian words in order, seeded with the file's size; "xxh3:" and 16 hex digits."""
import json
import os
import shutil
import struct
import tempfile
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
        out = f"{self.dir.name}/{name}.h5"
        r = pearl("run", "table.aggregate", "--input", f"table={glob}:/t", "--by", "id", "--sum", "v",
                  "--output", out, ranks=ranks)
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(out, "r") as f:
            return {os.path.basename(i["path"]): i["checksum"] for i in json.loads(f.attrs["inputs"])}

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


if __name__ == "__main__":
    unittest.main()
