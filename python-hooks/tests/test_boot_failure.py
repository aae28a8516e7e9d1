"""worker_exit: a Gunicorn worker that failed to load the app says so, and keeps a serving master."""

import os
import subprocess
import sys
import types
import unittest
from unittest import mock

from rolling_restart_hook import boot_failure
from tests.helpers import HookTestCase, parse


def fake_worker(booted=False, pid=None, ppid=None, timeout=2):
    worker = types.SimpleNamespace()
    worker.booted = booted
    worker.pid = os.getpid() if pid is None else pid
    worker.ppid = os.getpid() if ppid is None else ppid
    worker.alive = True
    worker.cfg = types.SimpleNamespace(proc_name="app", timeout=timeout)
    worker.app = types.SimpleNamespace(app_uri="app:app")
    return worker


def exit_during_boot(worker, status=3, error=ImportError("broken release")):
    """What Gunicorn's spawn_worker does: SystemExit(status) in flight, worker_exit in its finally."""
    try:
        try:
            raise error
        except Exception:
            sys.exit(status)
    finally:
        boot_failure.worker_exit(None, worker)


@unittest.skipUnless(os.path.isdir("/proc/self"), "reads /proc")
class WorkerExitTest(HookTestCase):
    def setUp(self):
        super(WorkerExitTest, self).setUp()
        self.table = boot_failure._make_table()
        patcher = mock.patch.object(boot_failure, "_table", self.table)
        patcher.start()
        self.addCleanup(patcher.stop)

    def sibling(self):
        """A live child of this process noted as a worker that loaded the app."""
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        boot_failure._SLOT.pack_into(self.table, (child.pid % boot_failure._SLOTS) * boot_failure._SLOT.size, child.pid)
        return child.pid

    def test_alone_it_reports_and_lets_gunicorn_halt(self):
        receiver = self.receiver()
        with self.assertRaises(SystemExit) as ended:
            exit_during_boot(fake_worker())
        self.assertEqual(ended.exception.code, 3, "the exit status is Gunicorn's: it halts")
        fields = parse(receiver.receive())
        self.assertEqual(fields["READY"], "0")
        self.assertEqual(fields["PID"], str(os.getpid()))
        self.assertEqual(fields["GROUP"], "app")
        self.assertEqual(fields["APP"], "app:app")
        self.assertEqual(fields["STATUS"], "boot failed: ImportError: broken release (exit status 3: Gunicorn halts the master)")

    def test_with_a_serving_sibling_it_waits_then_exits_1_so_gunicorn_replaces_it(self):
        sibling = self.sibling()
        receiver = self.receiver()
        with self.assertRaises(SystemExit) as ended:
            exit_during_boot(fake_worker(timeout=2), status=4, error=AttributeError("no app"))
        self.assertEqual(ended.exception.code, 1)
        status = parse(receiver.receive())["STATUS"]
        self.assertEqual(status, "boot failed: AttributeError: no app (exit status 4: the master keeps serving "
                                 "with workers %d and tries again in 0.5s)" % sibling)

    def test_the_wait_ends_when_the_worker_is_told_to_stop(self):
        self.sibling()
        self.receiver()
        worker = fake_worker(timeout=400)  # backoff capped at 5 s
        worker.alive = False
        with self.assertRaises(SystemExit) as ended:
            exit_during_boot(worker)
        self.assertEqual(ended.exception.code, 1)

    def test_halt_on_boot_error_keeps_gunicorns_behaviour(self):
        self.sibling()
        self.receiver()
        os.environ["ROLLING_RESTART_HALT_ON_BOOT_ERROR"] = "1"
        with self.assertRaises(SystemExit) as ended:
            exit_during_boot(fake_worker())
        self.assertEqual(ended.exception.code, 3)

    def test_nothing_for_a_booted_worker_another_process_or_another_exit(self):
        receiver = self.receiver()
        self.sibling()
        for worker, status in ((fake_worker(booted=True), 3), (fake_worker(pid=1), 3), (fake_worker(), 0)):
            with self.assertRaises(SystemExit) as ended:
                exit_during_boot(worker, status=status)
            self.assertEqual(ended.exception.code, status)
        self.assertTrue(receiver.nothing())
        boot_failure.worker_exit(None, fake_worker())  # no exception in flight
        self.assertTrue(receiver.nothing())

    def test_loaded_notes_this_worker_for_its_siblings(self):
        boot_failure.loaded()
        pid = os.getpid()
        self.assertEqual(boot_failure._SLOT.unpack_from(self.table, (pid % boot_failure._SLOTS) * boot_failure._SLOT.size)[0], pid)
        self.assertEqual(boot_failure.serving_siblings(os.getppid()), [], "itself is not a sibling")

    def test_a_dead_or_foreign_pid_is_not_a_serving_sibling(self):
        boot_failure._SLOT.pack_into(self.table, 0, 1)  # init: not our child
        self.assertEqual(boot_failure.serving_siblings(os.getpid()), [])

    def test_never_raises_anything_else(self):
        self.receiver()
        with mock.patch.object(boot_failure._notify, "report", side_effect=RuntimeError("boom")):
            with self.assertRaises(SystemExit) as ended:
                exit_during_boot(fake_worker())
        self.assertEqual(ended.exception.code, 3)
        self.assertIn("worker_exit hook failed: RuntimeError: boom", self.stderr.getvalue())

    def test_the_gunicorn_module_offers_it(self):
        from rolling_restart_hook import gunicorn
        self.assertIs(gunicorn.worker_exit, boot_failure.worker_exit)


if __name__ == "__main__":
    unittest.main()
