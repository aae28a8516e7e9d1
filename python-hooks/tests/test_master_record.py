"""The master record: what the workers will load, in an anonymous memfd rolling-restart reads."""

import fcntl
import json
import os
import subprocess
import sys
import types
import unittest
from unittest import mock

from rolling_restart_hook import master_record
from tests.helpers import PYTHON, HookTestCase, subprocess_env

HAS_MEMFD = hasattr(os, "memfd_create")


def read_back(fd):
    """What rolling-restart reads: the link name, and the bytes through /proc/PID/fd/N."""
    link = os.readlink("/proc/%d/fd/%d" % (os.getpid(), fd))
    with open("/proc/%d/fd/%d" % (os.getpid(), fd), "rb") as handle:
        return link, json.loads(handle.read().decode("utf-8"))


@unittest.skipUnless(HAS_MEMFD, "os.memfd_create is Linux-only")
class MasterRecordTest(HookTestCase):
    def setUp(self):
        super(MasterRecordTest, self).setUp()
        master_record._written_by = None
        self.addCleanup(setattr, master_record, "_written_by", None)

    def record(self, server="gunicorn"):
        fd = master_record.record(server)
        if fd is not None:
            self.addCleanup(os.close, fd)
        return fd

    def test_the_record_is_an_anonymous_file_with_what_the_workers_load(self):
        os.environ["DJANGO_SETTINGS_MODULE"] = "site.settings"
        fd = self.record()
        self.assertIsNotNone(fd)
        link, data = read_back(fd)
        self.assertEqual(link, "/memfd:rolling-restart-record (deleted)")
        self.assertEqual(data["version"], 1)
        self.assertEqual(data["server"], "gunicorn")
        self.assertEqual(data["pid"], os.getpid())
        self.assertEqual(data["argv"], sys.argv)
        self.assertEqual(data["cwd"], os.getcwd())
        self.assertEqual(data["executable"], sys.executable)
        self.assertEqual(data["interpreter"], sys.executable)
        self.assertEqual(data["env"]["DJANGO_SETTINGS_MODULE"], "site.settings")
        self.assertIn(os.path.dirname(master_record.__file__).rsplit(os.sep, 1)[0], data["path"])
        self.assertNotIn("uwsgi", data)

    def test_closed_on_exec_and_written_once_per_process(self):
        fd = self.record()
        self.assertTrue(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
        self.assertIsNone(master_record.record("gunicorn"), "a second import in the same process writes nothing")

    def test_a_forked_worker_holds_the_same_record(self):
        fd = self.record()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                ok = read_back(fd)[1]["pid"] != os.getpid() and master_record.record("gunicorn") is None
            except BaseException:
                ok = False
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.WEXITSTATUS(status), 0, "the child read its master's record and wrote none of its own")

    def test_off_writes_nothing(self):
        os.environ["ROLLING_RESTART_RECORD"] = "off"
        self.assertIsNone(self.record())

    def test_without_memfd_create_nothing_and_no_error(self):
        with mock.patch.object(master_record.os, "memfd_create", None):
            self.assertIsNone(self.record())
        self.assertEqual(self.stderr.getvalue(), "")

    def test_never_raises(self):
        with mock.patch.object(master_record, "build", side_effect=RuntimeError("boom")):
            self.assertIsNone(self.record())
        self.assertIn("master record not written: RuntimeError: boom", self.stderr.getvalue())

    def test_too_large_is_not_written(self):
        with mock.patch.object(master_record, "MAX_BYTES", 10):
            self.assertIsNone(self.record())
        self.assertIn("master record not written", self.stderr.getvalue())

    def test_uwsgi_options_are_recorded_as_text(self):
        module = types.ModuleType("uwsgi")
        module.opt = {"wsgi-file": b"/srv/app/wsgi.py", "lazy-apps": True, "pythonpath": [b"/a", b"/b"]}
        with mock.patch.dict(sys.modules, {"uwsgi": module}):
            fd = self.record("uwsgi")
        data = read_back(fd)[1]
        self.assertEqual(data["uwsgi"], {"wsgi-file": "/srv/app/wsgi.py", "lazy-apps": True, "pythonpath": ["/a", "/b"]})

    def test_importing_the_gunicorn_hook_writes_the_record(self):
        # what a Gunicorn master does when its config file imports the hook
        code = ("import os\n"
                "from rolling_restart_hook import gunicorn\n"
                "fds = os.listdir('/proc/self/fd')\n"
                "def link(n):\n"
                "    try:\n"
                "        return os.readlink('/proc/self/fd/' + n)\n"
                "    except OSError:\n"
                "        return None\n"
                "print([link(n) for n in fds].count('/memfd:rolling-restart-record (deleted)'))\n")
        out = subprocess.run([PYTHON, "-c", code], env=subprocess_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        self.assertEqual(out.stdout.strip(), "1", out.stderr)


class InterpreterTest(unittest.TestCase):
    def test_a_server_that_is_not_python_names_the_prefix_interpreter(self):
        with mock.patch.object(master_record.sys, "executable", "/usr/bin/uwsgi-core"):
            found = master_record._interpreter()
        self.assertTrue(found is None or os.path.basename(found).startswith("python"), found)
        if found is not None:
            self.assertTrue(found.startswith(os.path.join(sys.prefix, "bin")))


if __name__ == "__main__":
    unittest.main()
