#!/usr/bin/python3
"""The pearl program with out-of-tree plugins: loading via --plugin and PEARL_PLUGIN_PATH,
listing, describing and running a plugin job at 1 and 3 ranks, and every refusal (missing
file, not a library, no entry point, ABI mismatch, a taken job name, a plugin file or
directory writable by group or others) with exit code 2 and exactly one message.
Also: scripts/new-job touches only the new job's folder.

Run by CTest (plugin_cli) with PEARL_BIN, PLUGIN_FIXTURES, PEARL_SOURCE_DIR, MPIEXEC and
MPIEXEC_FLAGS in the environment."""
import os
import re
import shlex
import shutil
import stat
import subprocess
import tempfile
import unittest

PEARL = os.environ.get("PEARL_BIN", "build/bin/pearl")
FIXTURES = os.environ.get("PLUGIN_FIXTURES", "build/tests/plugins/fixtures")
SOURCE = os.environ.get("PEARL_SOURCE_DIR", ".")
MPIEXEC = os.environ.get("MPIEXEC", "mpiexec")
MPIEXEC_FLAGS = shlex.split(os.environ.get("MPIEXEC_FLAGS", ""))


def pearl(*args, ranks=None, plugin_path=None):
    env = {k: v for k, v in os.environ.items() if k != "PEARL_PLUGIN_PATH"}
    if plugin_path is not None:
        env["PEARL_PLUGIN_PATH"] = plugin_path
    cmd = [PEARL, *args] if ranks is None else [MPIEXEC, "-n", str(ranks), *MPIEXEC_FLAGS, PEARL, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def fixture(name):
    return os.path.join(FIXTURES, f"libplugintest_{name}.so")


class Plugins(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        os.chmod(self.tmp, 0o755)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def private_copy(self, name, subdir="plugins", mode=0o755, dir_mode=0o755):
        d = os.path.join(self.tmp, subdir)
        os.makedirs(d, exist_ok=True)
        dst = os.path.join(d, f"lib{name}.so")
        shutil.copy(fixture(name), dst)
        os.chmod(dst, mode)
        os.chmod(d, dir_mode)
        return dst

    def refused(self, r, *texts):
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        # One message from pearl (rank 0), whatever the launcher adds about the exit code.
        lines = [l for l in r.stderr.splitlines() if l.startswith("pearl")]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("pearl: error: "), lines[0])
        for t in texts:
            self.assertIn(t, lines[0])
        return lines[0]

    # --- loading and using -------------------------------------------------------------
    def test_plugin_option_lists_describes_and_runs(self):
        lib = self.private_copy("good")
        r = pearl("--plugin", lib, "jobs")
        self.assertEqual(r.returncode, 0, r.stderr)
        line = [l for l in r.stdout.splitlines() if "plugintest.triangle" in l]
        self.assertEqual(len(line), 1, r.stdout)
        self.assertIn("[plugin " + lib + "]", line[0])
        self.assertIn("demo.sum", r.stdout)  # built-ins still there

        r = pearl("describe", "plugintest.triangle", "--plugin=" + lib)  # --plugin anywhere
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--n arg (=100)", r.stdout)
        self.assertIn("from plugin " + lib, r.stdout)

        for ranks in (1, 3):
            r = pearl("run", "plugintest.triangle", "--n", "1000", "--plugin", lib, ranks=ranks)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), "triangle 1000 = 499500")

    def test_plugin_path_loads_every_library_in_its_directories(self):
        lib = self.private_copy("good", subdir="a")
        os.makedirs(os.path.join(self.tmp, "b"))
        os.chmod(os.path.join(self.tmp, "b"), 0o755)
        path = f"{self.tmp}/b::{os.path.dirname(lib)}"  # empty entries are skipped
        r = pearl("run", "plugintest.triangle", "--n", "10", plugin_path=path, ranks=2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("triangle 10 = 45", r.stdout)
        # The same library via --plugin and the path is loaded once, not refused as a
        # duplicate, and rank 0 says so once (at 1 and 3 ranks).
        for ranks in (None, 3):
            with self.subTest(ranks=ranks):
                r = pearl("--plugin", lib, "jobs", plugin_path=os.path.dirname(lib), ranks=ranks)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout.count("plugintest.triangle"), 1)
                notes = [l for l in r.stderr.splitlines() if l.startswith("pearl")]
                self.assertEqual(notes, [f"pearl: note: plugin {lib} is the library already loaded as {lib}; "
                                         "loaded once (name it once: --plugin or PEARL_PLUGIN_PATH)"], r.stderr)
        # A hard link is the same library under another name: loaded once, said once.
        link = os.path.join(self.tmp, "a", "liblink.so")
        os.link(lib, link)
        r = pearl("--plugin", lib, "--plugin", link, "jobs")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count("plugintest.triangle"), 1)
        self.assertIn(f"pearl: note: plugin {link} is the library already loaded as {lib}", r.stderr)

    def test_declared_columns_are_checked_before_the_job_runs(self):
        import h5py
        import numpy as np
        lib = self.private_copy("good")
        ok, bad, text_c = (os.path.join(self.tmp, n) for n in ("ok.h5", "bad.h5", "text.h5"))
        with h5py.File(ok, "w") as f:
            f.create_group("t").create_dataset("c", data=np.arange(5, dtype=np.int16))  # widens losslessly
        with h5py.File(bad, "w") as f:
            f.create_group("t").create_dataset("d", data=np.arange(5, dtype=np.int32))
        with h5py.File(text_c, "w") as f:  # strings never convert to int32
            f.create_group("t").create_dataset("c", data=np.array(["a", "b"], dtype=h5py.string_dtype()))
        r = pearl("--plugin", lib, "run", "plugintest.declared", "--input", f"t={ok}", ranks=2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "ran")
        # (Values too large for the declared type are found while reading, block by block.)
        for path, text in ((bad, "no column 'c'"), (text_c, "'c'")):
            with self.subTest(path=path):
                r = pearl("--plugin", lib, "run", "plugintest.declared", "--input", f"t={path}", ranks=2)
                self.refused(r, path, text)
                self.assertNotIn("ran", r.stdout)

    def test_without_plugins_the_job_is_unknown(self):
        self.refused(pearl("run", "plugintest.triangle"), "unknown job 'plugintest.triangle'")

    # --- refusals ----------------------------------------------------------------------
    def test_missing_file(self):
        missing = os.path.join(self.tmp, "nope.so")
        self.refused(pearl("--plugin", missing, "jobs"), f"plugin {missing}: no such file")
        self.refused(pearl("jobs", plugin_path=os.path.join(self.tmp, "nodir")), "no such directory")

    def test_not_a_library(self):
        bad = os.path.join(self.tmp, "plugins", "libtext.so")
        os.makedirs(os.path.dirname(bad))
        with open(bad, "w") as f:
            f.write("not an ELF file\n")
        os.chmod(bad, 0o644)
        self.refused(pearl("--plugin", bad, "jobs"), f"plugin {bad}: cannot load it")

    def test_library_without_entry_point(self):
        lib = self.private_copy("no_entry")
        self.refused(pearl("--plugin", lib, "jobs"), "not a pearl plugin", "pearl_plugin_v1")
        # Its job was staged, never registered.
        self.refused(pearl("--plugin", lib, "run", "plugintest.no_entry"), "not a pearl plugin")

    def test_abi_version_mismatch(self):
        lib = self.private_copy("wrong_abi")
        # The fixture reports the program's version + 98 (PEARL_PLUGIN_ABI_VERSION, read
        # from pearl/core/plugin.hpp).
        with open(os.path.join(SOURCE, "core/include/pearl/core/plugin.hpp"), encoding="utf-8") as f:
            version = int(re.search(r"^#define PEARL_PLUGIN_ABI_VERSION (\d+)$", f.read(), re.M).group(1))
        self.refused(pearl("--plugin", lib, "jobs"), f"built for plugin ABI version {version + 98}",
                     f"this pearl has ABI version {version}", "rebuild")
        self.refused(pearl("jobs", plugin_path=os.path.dirname(lib), ranks=2), "ABI version")

    def test_job_name_already_taken(self):
        lib = self.private_copy("duplicate")
        self.refused(pearl("--plugin", lib, "jobs"), "job name 'demo.sum' is already taken by a built-in job")
        good = self.private_copy("good")
        other = self.private_copy("good", subdir="again")
        os.rename(other, os.path.join(os.path.dirname(other), "libcopy.so"))
        other = os.path.join(os.path.dirname(other), "libcopy.so")
        # A second file (a copy, so another library to the loader) with the same job.
        self.refused(pearl("--plugin", good, "--plugin", other, "jobs"),
                     "'plugintest.triangle' is already taken by plugin " + good)

    def test_writable_by_others_is_refused(self):
        for mode, dir_mode, text in ((0o775, 0o755, "file"), (0o757, 0o755, "file"),
                                     (0o755, 0o775, "its directory"), (0o755, 0o777, "its directory")):
            with self.subTest(mode=oct(mode), dir_mode=oct(dir_mode)):
                lib = self.private_copy("good", subdir=f"p{mode:o}{dir_mode:o}", mode=mode, dir_mode=dir_mode)
                line = self.refused(pearl("--plugin", lib, "jobs"), "refused", text, "chmod go-w")
                self.assertIn("writable by", line)
                r = pearl("jobs", plugin_path=os.path.dirname(lib))
                self.refused(r, "refused")
        # The plugin path's directory itself is checked even when it holds no library.
        d = os.path.join(self.tmp, "open")
        os.mkdir(d)
        os.chmod(d, 0o777)
        self.refused(pearl("jobs", plugin_path=d), "refused", "writable by others")

    # --- scripts/new-job ---------------------------------------------------------------
    def test_new_job_touches_only_its_folder(self):
        root = os.path.join(self.tmp, "tree")
        os.makedirs(os.path.join(root, "jobs"))
        r = subprocess.run([os.path.join(SOURCE, "scripts", "new-job"), "health.incidence", "--root", root],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        created = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
        self.assertEqual(created, ["jobs/health/incidence/CMakeLists.txt", "jobs/health/incidence/incidence.cpp",
                                   "jobs/health/incidence/test_health_incidence.py"])
        with open(os.path.join(root, created[1])) as f:
            src = f.read()
        self.assertIn('return "health.incidence";', src)
        self.assertIn("PEARL_REGISTER_JOB(HealthIncidence);", src)
        for leftover in ("skeleton.example", "skeleton_example", "SkeletonExample"):
            self.assertNotIn(leftover, src)
        with open(os.path.join(root, created[0])) as f:
            cmake = f.read()
        self.assertIn("pearl_add_job_family(health_incidence incidence.cpp)", cmake)
        self.assertIn("pearl_add_job_test(health.incidence test_health_incidence.py)", cmake)
        # Refusals: an existing job, a bad name.
        r = subprocess.run([os.path.join(SOURCE, "scripts", "new-job"), "health.incidence", "--root", root],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([os.path.join(SOURCE, "scripts", "new-job"), "Health", "--root", root],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)

    def test_new_job_plugin_makes_a_plugin_folder(self):
        new_job = os.path.join(SOURCE, "scripts", "new-job")
        d = os.path.join(self.tmp, "acme")
        r = subprocess.run([new_job, "--plugin", d, "health.case_delay"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(d)), ["CMakeLists.txt", "case_delay.cpp", "plugin.cpp",
                                                 "test_health_case_delay.py"])
        with open(os.path.join(d, "CMakeLists.txt")) as f:
            cmake = f.read()
        for text in ("find_package(pearl", "pearl_add_plugin(health_case_delay plugin.cpp case_delay.cpp)",
                     "pearl_add_plugin_test(NAME job.health.case_delay PLUGIN health_case_delay SCRIPT "
                     "${CMAKE_CURRENT_SOURCE_DIR}/test_health_case_delay.py)"):
            self.assertIn(text, cmake)
        with open(os.path.join(d, "plugin.cpp")) as f:
            self.assertIn('PEARL_PLUGIN("health_case_delay"', f.read())
        # A folder with something in it is not overwritten; a missing folder name is usage.
        r = subprocess.run([new_job, "--plugin", d, "health.other"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not empty", r.stderr)
        self.assertEqual(subprocess.run([new_job, "health.x", "--plugin"], capture_output=True).returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
