import os
import sys
import types
import unittest
from unittest import mock

from rolling_restart_hook import uwsgi as hook
from tests.helpers import HookTestCase, ok_app, parse


class UwsgiHookTest(HookTestCase):
    def setUp(self):
        super(UwsgiHookTest, self).setUp()
        hook._sent_by_pid = None
        self.addCleanup(setattr, hook, "_sent_by_pid", None)

    def fake_uwsgi(self, worker_id, opt=None, **attributes):
        module = types.ModuleType("uwsgi")
        module.state = {"worker_id": worker_id, "mule_id": 0}
        module.worker_id = lambda: module.state["worker_id"]
        module.mule_id = lambda: module.state["mule_id"]
        module.opt = opt if opt is not None else {}
        module.__dict__.update(attributes)
        patcher = mock.patch.dict(sys.modules, {"uwsgi": module})
        patcher.start()
        self.addCleanup(patcher.stop)
        return module

    def test_lazy_apps_worker_sends_at_once(self):
        self.fake_uwsgi(1, {"procname-master": b"uwsgi app:green"})
        receiver = self.receiver()
        self.assertIs(hook.notify_ready(ok_app), ok_app)
        fields = parse(receiver.receive())
        self.assertEqual(fields["READY"], "1")
        self.assertEqual(fields["GROUP"], "uwsgi app:green")
        self.assertEqual(fields["PPID"], str(os.getppid()))

    def test_no_group_without_procname_master(self):
        self.fake_uwsgi(2)
        receiver = self.receiver()
        hook.notify_ready(ok_app)
        self.assertNotIn("GROUP", parse(receiver.receive()))

    def test_group_from_environment_wins_over_procname(self):
        self.fake_uwsgi(1, {"procname-master": [b"first", b"second"]})
        os.environ["ROLLING_RESTART_GROUP"] = "app:green"
        receiver = self.receiver()
        hook.notify_ready(ok_app)
        self.assertEqual(parse(receiver.receive())["GROUP"], "app:green")

    def test_master_registers_a_post_fork_hook_that_sends_in_the_worker(self):
        uwsgi = self.fake_uwsgi(0)
        receiver = self.receiver()
        self.assertIs(hook.notify_ready(ok_app), ok_app)
        self.assertTrue(receiver.nothing())
        self.assertTrue(callable(uwsgi.post_fork_hook))
        uwsgi.state["worker_id"] = 3  # what the forked worker sees
        uwsgi.post_fork_hook()
        self.assertEqual(parse(receiver.receive())["READY"], "1")

    def test_post_fork_hook_ignores_mules_and_spoolers(self):
        uwsgi = self.fake_uwsgi(0)
        receiver = self.receiver()
        hook.notify_ready(ok_app)
        uwsgi.post_fork_hook()  # spooler: worker_id stays 0
        uwsgi.state.update(worker_id=1, mule_id=1)
        uwsgi.post_fork_hook()  # mule
        self.assertTrue(receiver.nothing())

    def test_existing_post_fork_hook_is_kept_and_runs_first(self):
        calls = []
        uwsgi = self.fake_uwsgi(0, post_fork_hook=lambda: calls.append("theirs"))
        receiver = self.receiver()
        hook.notify_ready(ok_app)
        uwsgi.state["worker_id"] = 1
        uwsgi.post_fork_hook()
        self.assertEqual(calls, ["theirs"])
        self.assertEqual(parse(receiver.receive())["READY"], "1")

    def test_joins_the_uwsgidecorators_chain(self):
        chain = []

        def chain_hook():
            for function in chain:
                function()
        decorators = types.ModuleType("uwsgidecorators")
        decorators.postfork_chain = chain
        decorators.postfork_chain_hook = chain_hook
        uwsgi = self.fake_uwsgi(0, post_fork_hook=chain_hook)
        with mock.patch.dict(sys.modules, {"uwsgidecorators": decorators}):
            receiver = self.receiver()
            hook.notify_ready(ok_app)
        self.assertIs(uwsgi.post_fork_hook, chain_hook)
        self.assertEqual(len(chain), 1)
        uwsgi.state["worker_id"] = 1
        uwsgi.post_fork_hook()
        self.assertEqual(parse(receiver.receive())["READY"], "1")

    def test_sends_once_per_process(self):
        uwsgi = self.fake_uwsgi(0)
        receiver = self.receiver()
        hook.notify_ready(ok_app)
        uwsgi.state["worker_id"] = 1
        uwsgi.post_fork_hook()
        receiver.receive()
        uwsgi.post_fork_hook()
        self.assertTrue(receiver.nothing())

    def test_outside_uwsgi_sends_at_once(self):
        with mock.patch.dict(sys.modules, {"uwsgi": None}):  # None makes the import fail
            receiver = self.receiver()
            self.assertIs(hook.notify_ready(ok_app), ok_app)
        self.assertEqual(parse(receiver.receive())["READY"], "1")
        self.assertIn("not running inside uWSGI", self.stderr.getvalue())

    def test_broken_uwsgi_module_never_raises(self):
        uwsgi = self.fake_uwsgi(0)

        def broken():
            raise RuntimeError("no worker id")
        uwsgi.worker_id = broken
        self.assertIs(hook.notify_ready(ok_app), ok_app)
        self.assertIn("uwsgi hook failed: RuntimeError: no worker id", self.stderr.getvalue())

    def test_post_fork_hook_never_raises(self):
        uwsgi = self.fake_uwsgi(0)
        hook.notify_ready(ok_app)

        def broken():
            raise RuntimeError("after fork")
        uwsgi.worker_id = broken
        uwsgi.post_fork_hook()
        self.assertIn("uwsgi post-fork hook failed: RuntimeError: after fork", self.stderr.getvalue())


if __name__ == "__main__":
    unittest.main()
