#!/usr/bin/python3
"""Golden test of privacy.pseudonymize against Python's hmac + hashlib (SHA-256 and SM3), at
1-3 ranks, plus its key-file refusals and what must never leak (the key in logs, output,
attributes or scratch).

Run by CTest (job.privacy.pseudonymize) with PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS set; alone:
PYTHONPATH=tests/support PEARL_BIN=build/bin/pearl /usr/bin/python3 THIS_FILE."""
import glob
import hashlib
import hmac
import os
import tempfile
import unittest
from functools import partial

import h5py
import numpy as np
import pandas as pd

import pearl_testing
from pearl_testing import read_output, write_columnar, write_compound

JOB = "privacy.pseudonymize"
pearl = partial(pearl_testing.pearl, timeout=300)
KEY = b"k3y-f0r-the-golden-test-0123456789abcdef"
HAS_SM3 = "sm3" in hashlib.algorithms_available


def pseudonym(value, digest="sha256"):
    """The documented pseudonym: the first 16 bytes, hex, of HMAC(key, the id's text), with
    integers as canonical decimal text."""
    text = str(int(value)) if isinstance(value, (int, np.integer)) else value
    return hmac.new(KEY, text.encode(), digest).hexdigest()[:32]


class Golden(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.key = os.path.join(cls.tmp.name, "pearl.key")
        with open(cls.key, "wb") as f:
            f.write(KEY + b"\n")  # a trailing newline, as `openssl rand -hex 32 > FILE` leaves
        os.chmod(cls.key, 0o600)
        rng = np.random.default_rng(11)
        parts = []
        for i, n in enumerate((700, 1, 1300)):
            df = pd.DataFrame({
                "person_id": rng.integers(-5, 3000, n).astype(np.int64),
                "card_id": [f"C{x:06d}" for x in rng.integers(0, 900, n)],
                "employer_id": rng.integers(0, 400, n).astype(np.uint32),
                "amount": rng.normal(100, 30, n),
                "region_code": rng.integers(440000, 449999, n).astype(np.uint32),
            })
            path = os.path.join(cls.tmp.name, f"persons-{i}.h5")
            if i == 2:
                write_compound(path, df, "persons")  # both layouts of the contract
            else:
                write_columnar(path, df, "persons")
            parts.append(df)
        cls.data = pd.concat(parts, ignore_index=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_job(self, ranks, out_name, *extra, inputs=None, key=None, expect=0):
        out = os.path.join(self.tmp.name, out_name)
        r = pearl("run", JOB, "--input", inputs or f"table={self.tmp.name}/persons-*.h5:/persons",
                  "--key-file", key or self.key, "--output", out, *extra, ranks=ranks)
        self.assertEqual(r.returncode, expect, r.stderr)
        return out, r

    def check(self, got, columns, digest):
        want = self.data.copy()
        for c in columns:
            want[c] = [pseudonym(v, digest) for v in want[c].tolist()]
        # Every input column, none added (a columnar shard lists its columns by name).
        self.assertEqual(sorted(got.columns), sorted(want.columns))
        for c in want.columns:
            self.assertEqual(got[c].tolist(), want[c].tolist(), c)

    def test_hmac_sha256_matches_python_at_1_to_3_ranks(self):
        for ranks in (1, 2, 3):
            with self.subTest(ranks=ranks):
                out, _ = self.run_job(ranks, f"sha-{ranks}.h5", "--columns", "person_id,card_id,employer_id")
                got, types = read_output(out, "table")
                self.check(got, ["person_id", "card_id", "employer_id"], "sha256")
                self.assertEqual(types["amount"], np.float64)  # passed through as stored
                self.assertEqual(types["region_code"], np.uint32)

    @unittest.skipUnless(HAS_SM3, "this Python's hashlib has no sm3 (the unit test checks the GM/T vectors)")
    def test_hmac_sm3_matches_python_at_1_and_3_ranks(self):
        for ranks in (1, 3):
            with self.subTest(ranks=ranks):
                out, _ = self.run_job(ranks, f"sm3-{ranks}.h5", "--columns", "card_id,person_id", "--algorithm", "sm3")
                got, _ = read_output(out, "table")
                self.check(got, ["person_id", "card_id"], "sm3")

    def test_same_id_in_shards_on_different_ranks_gets_one_pseudonym(self):
        d = os.path.join(self.tmp.name, "join")
        os.mkdir(d)
        # 42 in both shards, as int64 in one and as the string "42" in the other.
        write_columnar(os.path.join(d, "a-0.h5"), pd.DataFrame({"id": np.array([42, 7, 42], dtype=np.int64)}), "t")
        write_columnar(os.path.join(d, "a-1.h5"), pd.DataFrame({"id": np.array([42, 9, 42], dtype=np.int32)}), "t")
        write_columnar(os.path.join(d, "s-0.h5"), pd.DataFrame({"id": ["42", "x"]}), "t")
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                out, _ = self.run_job(ranks, f"join-{ranks}.h5", "--columns", "id", inputs=f"table={d}/a-*.h5:/t")
                ids = read_output(out, "table")[0]["id"].tolist()
                self.assertEqual(len(ids), 6)
                self.assertEqual({ids[0], ids[2], ids[3], ids[5]}, {pseudonym(42)})
                out, _ = self.run_job(ranks, f"joins-{ranks}.h5", "--columns", "id", inputs=f"table={d}/s-*.h5:/t")
                self.assertEqual(read_output(out, "table")[0]["id"].tolist()[0], pseudonym(42))

    def test_key_never_leaks_into_logs_output_or_scratch(self):
        scratch = os.path.join(self.tmp.name, "scratch")
        os.mkdir(scratch)
        out, r = self.run_job(2, "leak.h5", "--columns", "person_id,card_id", "--verbose", "--scratch", scratch)
        for text in (r.stdout, r.stderr):
            self.assertNotIn(KEY.decode(), text)
            for card in set(self.data["card_id"]):  # nor an identifier, in clear or pseudonymised
                self.assertNotIn(card, text)
                self.assertNotIn(pseudonym(card), text)
        with open(out, "rb") as f:
            raw = f.read()
        self.assertNotIn(KEY, raw)
        self.assertIn(self.key.encode(), raw)  # the key file's path is recorded, its content never
        with h5py.File(out, "r") as f:
            attrs = []
            f.visititems(lambda name, obj: attrs.extend(str(v) for v in obj.attrs.values()))
            attrs.extend(str(v) for v in f.attrs.values())
        self.assertFalse(any(KEY.decode() in a for a in attrs))
        self.assertEqual(os.listdir(scratch), [])

    def test_output_is_not_readable_by_others(self):
        out, _ = self.run_job(2, "mode.h5", "--columns", "person_id")
        mode = os.stat(out).st_mode & 0o777
        self.assertEqual(mode & 0o007, 0, f"pseudonymised output has mode {mode:o}")

    def refused(self, key_path, *, ranks=2, columns="person_id"):
        out, r = self.run_job(ranks, "refused.h5", "--columns", columns, key=key_path, expect=2)
        self.assertFalse(os.path.exists(out))
        messages = [l for l in r.stderr.splitlines() if l.startswith("pearl")]
        self.assertEqual(len(messages), 1, r.stderr)
        return messages[0]

    def test_group_or_world_readable_key_is_refused(self):
        for mode in (0o640, 0o644, 0o604):
            with self.subTest(mode=oct(mode)):
                path = os.path.join(self.tmp.name, f"open-{mode:o}.key")
                with open(path, "wb") as f:
                    f.write(KEY)
                os.chmod(path, mode)
                message = self.refused(path)
                self.assertIn(path, message)
                self.assertIn("group or others", message)
                self.assertNotIn(KEY.decode(), message)

    def test_empty_short_and_missing_keys_are_refused(self):
        for name, content, words in (("empty.key", b"", "empty"), ("short.key", b"abc\n", "too short")):
            path = os.path.join(self.tmp.name, name)
            with open(path, "wb") as f:
                f.write(content)
            os.chmod(path, 0o600)
            self.assertIn(words, self.refused(path))
        self.assertIn("cannot read", self.refused(os.path.join(self.tmp.name, "no-such.key")))

    def test_bad_columns_are_input_errors(self):
        self.assertIn("no column 'nope'", self.refused(self.key, columns="nope"))
        self.assertIn("float64", self.refused(self.key, columns="amount"))
        self.assertIn("twice", self.refused(self.key, columns="card_id,card_id"))
        out, r = self.run_job(1, "alg.h5", "--columns", "card_id", "--algorithm", "md5", expect=2)
        self.assertIn("sha256, sm3", r.stderr)

    def test_describe_shows_the_options(self):
        r = pearl("describe", JOB)
        self.assertEqual(r.returncode, 0, r.stderr)
        for text in ("--columns", "--key-file", "--algorithm", "table"):
            self.assertIn(text, r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
