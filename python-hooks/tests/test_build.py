"""The in-tree build backend (python-hooks/build_backend): standard library only, the version
from package.json, wheels and sdists that installers accept."""

import base64
import contextlib
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import unittest
import zipfile

from tests.helpers import HOOKS_DIR, REPO_DIR

sys.path.insert(0, os.path.join(HOOKS_DIR, "build_backend"))
import hook_build  # noqa: E402
import hook_metadata  # noqa: E402

with open(os.path.join(REPO_DIR, "package.json")) as _handle:
    VERSION = json.load(_handle)["version"]


@contextlib.contextmanager
def working_directory(path):
    # PEP 517 hooks run in the source tree
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


class BuildTest(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.out)

    def build_wheel(self, source=HOOKS_DIR, hook=hook_build.build_wheel):
        with working_directory(source):
            name = hook(self.out)
        return zipfile.ZipFile(os.path.join(self.out, name))

    def test_project_table_matches_a_real_toml_reader(self):
        project = hook_metadata.read_project(HOOKS_DIR)
        try:
            import tomllib
        except ImportError:
            self.skipTest("tomllib is Python 3.11+")
        with open(os.path.join(HOOKS_DIR, "pyproject.toml"), "rb") as handle:
            real = tomllib.load(handle)
        self.assertEqual(real["build-system"]["requires"], [])
        for key in ("name", "description", "readme", "requires-python"):
            self.assertEqual(project[key], real["project"][key])
        self.assertEqual(project["license"], real["project"]["license"]["text"])
        self.assertEqual(real["project"]["dynamic"], ["version"])

    def test_wheel_carries_the_package_json_version(self):
        wheel = self.build_wheel()
        self.assertEqual(os.path.basename(wheel.filename), "rolling_restart_hook-%s-py3-none-any.whl" % VERSION)
        generated = wheel.read("rolling_restart_hook/_version.py").decode("utf-8")
        self.assertIn("VERSION = %r" % VERSION, generated)
        metadata = wheel.read("rolling_restart_hook-%s.dist-info/METADATA" % VERSION).decode("utf-8")
        self.assertIn("\nVersion: %s\n" % VERSION, metadata)
        self.assertIn("Name: rolling-restart-hook\n", metadata)

    def test_wheel_holds_the_sources_and_a_record_that_verifies(self):
        wheel = self.build_wheel()
        names = wheel.namelist()
        self.assertIn("rolling_restart_hook/notify.py", names)
        self.assertFalse([n for n in names if "__pycache__" in n or n.endswith(".pyc") or "tests/" in n])
        info = "rolling_restart_hook-%s.dist-info/" % VERSION
        record = wheel.read(info + "RECORD").decode("utf-8").splitlines()
        self.assertEqual(sorted(line.split(",")[0] for line in record), sorted(names))
        for line in record:
            name, digest, size = line.split(",")
            if name == info + "RECORD":
                continue
            data = wheel.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            self.assertEqual((digest, int(size)), ("sha256=" + expected, len(data)), name)

    def test_editable_wheel_points_at_the_tree(self):
        wheel = self.build_wheel(hook=hook_build.build_editable)
        self.assertEqual(wheel.read("rolling_restart_hook.pth").decode("utf-8").strip(), HOOKS_DIR)
        self.assertNotIn("rolling_restart_hook/_version.py", wheel.namelist())

    def test_sdist_rebuilds_with_its_own_version(self):
        with working_directory(HOOKS_DIR):
            name = hook_build.build_sdist(self.out)
        self.assertEqual(name, "rolling_restart_hook-%s.tar.gz" % VERSION)
        unpacked = os.path.join(self.out, "src")
        with tarfile.open(os.path.join(self.out, name)) as archive:
            archive.extractall(unpacked)
        source = os.path.join(unpacked, "rolling_restart_hook-%s" % VERSION)
        self.assertTrue(os.path.isfile(os.path.join(source, "PKG-INFO")))
        # no package.json above it: the version comes from PKG-INFO
        wheel = self.build_wheel(source)
        self.assertIn("VERSION = %r" % VERSION, wheel.read("rolling_restart_hook/_version.py").decode("utf-8"))

    def test_no_version_anywhere_is_an_error_that_says_where_to_build(self):
        source = os.path.join(self.out, "copy")
        shutil.copytree(HOOKS_DIR, source, ignore=shutil.ignore_patterns("tests", "__pycache__"))
        with self.assertRaises(ValueError) as caught:
            hook_metadata.project_version(source)
        self.assertIn("package.json", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
