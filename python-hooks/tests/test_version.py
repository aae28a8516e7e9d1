"""The hook's version: built into a wheel, else read from rolling-restart's package.json, and
sent as HOOK in every datagram."""

import json
import os
import shutil
import tempfile
import unittest

from rolling_restart_hook import __version__, notify, version
from tests.helpers import HOOKS_DIR, REPO_DIR, ok_app, parse


def write_json(path, data):
    with open(path, "w") as handle:
        handle.write(data if isinstance(data, str) else json.dumps(data))


class ReadPackageJsonTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, "package.json")
        self.addCleanup(shutil.rmtree, self.dir)

    def test_the_version_of_rolling_restart(self):
        write_json(self.path, {"name": "rolling-restart", "version": "1.4.2"})
        self.assertEqual(version.read_package_json(self.path), "1.4.2")

    def test_another_package_json_is_not_ours(self):
        # a hook installed under some other project's tree must not take that project's version
        write_json(self.path, {"name": "my-app", "version": "9.0.0"})
        self.assertIsNone(version.read_package_json(self.path))

    def test_missing_unreadable_or_odd_files_give_none(self):
        self.assertIsNone(version.read_package_json(self.path))
        for content in ("{not json", "[1, 2]", json.dumps({"name": "rolling-restart"}),
                        json.dumps({"name": "rolling-restart", "version": 1}),
                        json.dumps({"name": "rolling-restart", "version": " "})):
            write_json(self.path, content)
            self.assertIsNone(version.read_package_json(self.path), content)

    def test_package_json_is_two_levels_above_the_package(self):
        self.assertEqual(version.package_json_path("/opt/rr/python-hooks/rolling_restart_hook"),
                         "/opt/rr/package.json")


class HookVersionTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.root)
        self.package_dir = os.path.join(self.root, "python-hooks", "rolling_restart_hook")
        os.makedirs(self.package_dir)

    def test_the_built_version_wins(self):
        write_json(os.path.join(self.root, "package.json"), {"name": "rolling-restart", "version": "2.0.0"})
        self.assertEqual(version.hook_version(self.package_dir, built=lambda: "1.9.0"), "1.9.0")

    def test_from_a_checkout_or_hook_path_it_reads_package_json(self):
        write_json(os.path.join(self.root, "package.json"), {"name": "rolling-restart", "version": "2.0.0"})
        self.assertEqual(version.hook_version(self.package_dir, built=lambda: None), "2.0.0")

    def test_neither_is_unknown(self):
        self.assertIsNone(version.hook_version(self.package_dir, built=lambda: None))

    def test_never_raises(self):
        def broken():
            raise RuntimeError("boom")
        self.assertIsNone(version.hook_version(self.package_dir, built=broken))

    def test_a_checkout_has_no_built_version(self):
        self.assertFalse(os.path.exists(os.path.join(HOOKS_DIR, "rolling_restart_hook", "_version.py")))
        self.assertIsNone(version.built_version())


class OneVersionTest(unittest.TestCase):
    def test_the_hook_in_the_tree_has_the_package_json_version(self):
        with open(os.path.join(REPO_DIR, "package.json")) as handle:
            expected = json.load(handle)["version"]
        self.assertEqual(version.VERSION, expected)
        self.assertEqual(__version__, expected)

    def test_the_datagram_carries_it_as_hook(self):
        fields = notify.collect(ok_app)
        self.assertEqual(fields["HOOK"], version.VERSION)
        self.assertEqual(parse(notify.build_datagram(fields))["HOOK"], version.VERSION)

    def test_an_unknown_version_sends_no_hook_line(self):
        fields = dict(notify.collect(ok_app), HOOK=None)
        self.assertNotIn("HOOK", parse(notify.build_datagram(fields)))


if __name__ == "__main__":
    unittest.main()
