"""The loaded-files record: what a worker that passed its probe loaded, with each file's identity."""

import hashlib
import json
import os
import sys
import tempfile
import types
import unittest
from unittest import mock

from rolling_restart_hook import loaded_record, notify
from tests.helpers import HookTestCase

HAS_MEMFD = hasattr(os, "memfd_create")


def read_back(fd):
    """What rolling-restart reads: the link name, then the header and the body lines."""
    path = "/proc/%d/fd/%d" % (os.getpid(), fd)
    with open(path, "rb") as handle:
        header, body = handle.read().decode("utf-8").split("\n")[:2]
    return os.readlink(path), json.loads(header), json.loads(body)


@unittest.skipUnless(HAS_MEMFD, "os.memfd_create is Linux-only")
class LoadedRecordTest(HookTestCase):
    def setUp(self):
        super(LoadedRecordTest, self).setUp()
        loaded_record._written_by = None
        self.addCleanup(setattr, loaded_record, "_written_by", None)
        os.environ.pop("ROLLING_RESTART_LOADED_RECORD", None)

    def record(self):
        fd = loaded_record.record()
        if fd is not None:
            self.addCleanup(os.close, fd)
        return fd

    def with_module(self, name, path):
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module
        self.addCleanup(sys.modules.pop, name, None)

    def test_each_loaded_module_file_with_its_identity_and_its_directory(self):
        fd = self.record()
        link, header, body = read_back(fd)
        self.assertEqual(link, "/memfd:rolling-restart-loaded (deleted)")
        self.assertEqual((header["version"], header["pid"]), (1, os.getpid()))
        self.assertEqual(header["termRepeat"], "keeps-draining", "a repeated TERM leaves the drain going (keepalive.py)")
        self.assertEqual(header["body"], hashlib.sha1(json.dumps(body, separators=(",", ":")).encode("utf-8")).hexdigest())
        files = dict((f[0], f) for f in body["files"])
        mine = os.path.abspath(loaded_record.__file__)
        st = os.stat(mine)
        self.assertEqual(files[mine], [mine, st.st_dev, st.st_ino, st.st_size, str(st.st_mtime_ns), str(st.st_ctime_ns)])
        dirs = dict((d[0], d) for d in body["dirs"])
        package = os.path.dirname(mine)
        st = os.stat(package)
        self.assertEqual(dirs[package], [package, st.st_dev, st.st_ino, str(st.st_mtime_ns), str(st.st_ctime_ns)],
                         "a package's __path__ is where its modules are looked up")
        self.assertNotIn("/nonexistent", dirs)
        self.assertEqual(body["cwd"], os.getcwd())

    def test_a_module_that_cannot_be_examined_is_listed_so(self):
        self.with_module("_rr_zipped", "/nonexistent/archive.zip/zipped.py")
        body = loaded_record.build()
        self.assertIn("/nonexistent/archive.zip/zipped.py", body["unreadable"])
        self.assertNotIn("/nonexistent/archive.zip", [d[0] for d in body["dirs"]], "a file loaded by its path adds no directory")

    def test_a_relative_module_file_is_made_absolute(self):
        with tempfile.NamedTemporaryFile(suffix=".py", dir=os.getcwd()) as handle:
            self.with_module("_rr_relative", os.path.basename(handle.name))
            paths = [f[0] for f in loaded_record.build()["files"]]
        self.assertIn(handle.name, paths)

    def test_written_once_per_process_and_not_when_turned_off(self):
        self.assertIsNotNone(self.record())
        self.assertIsNone(loaded_record.record(), "a second READY in the same process writes nothing")
        loaded_record._written_by = None
        os.environ["ROLLING_RESTART_LOADED_RECORD"] = "off"
        self.assertIsNone(loaded_record.record())

    def test_never_raises(self):
        with mock.patch.object(loaded_record, "_paths", side_effect=RuntimeError("boom")):
            self.assertIsNone(loaded_record.record())
        self.assertIn("loaded-files record not written: RuntimeError: boom", self.stderr.getvalue())

    def test_a_passed_probe_writes_it_and_a_failed_one_does_not(self):
        os.environ["ROLLING_RESTART_NOTIFY"] = "off"
        with mock.patch.object(loaded_record, "record") as record:
            notify.send_fields({"READY": "0", "PID": str(os.getpid()), "STATUS": "500"})
            record.assert_not_called()
            notify.send_fields({"READY": "1", "PID": str(os.getpid()), "STATUS": "200 OK"})
            record.assert_called_once_with()


if __name__ == "__main__":
    unittest.main()
