import os
import sys
import types
import unittest

from rolling_restart_hook import gunicorn as hook
from tests.helpers import HookTestCase, ok_app, parse


class FakeLog(object):
    def __init__(self):
        self.lines = []

    def info(self, message, *args):
        self.lines.append(message % args if args else message)


def fake_worker(**overrides):
    worker = types.SimpleNamespace(
        wsgi=ok_app, cfg=types.SimpleNamespace(proc_name="app:blue"), ppid=4242,
        pid=os.getpid(), log=FakeLog(), app=types.SimpleNamespace(app_uri="nowhere:app"))
    for key, value in overrides.items():
        setattr(worker, key, value)
    return worker


class ExplodingCfg(object):
    @property
    def proc_name(self):
        raise RuntimeError("cfg is broken")


class GunicornHookTest(HookTestCase):
    def test_config_line_imports_a_one_argument_hook(self):
        namespace = {}
        exec("from rolling_restart_hook.gunicorn import post_worker_init", namespace)
        self.assertIs(namespace["post_worker_init"], hook.post_worker_init)
        self.assertEqual(hook.post_worker_init.__code__.co_argcount, 1)

    def test_post_worker_init_sends_the_workers_datagram(self):
        receiver = self.receiver()
        self.assertIsNone(hook.post_worker_init(fake_worker()))
        fields = parse(receiver.receive())
        self.assertEqual(fields["READY"], "1")
        self.assertEqual(fields["PID"], str(os.getpid()))
        self.assertEqual(fields["PPID"], "4242")
        self.assertEqual(fields["GROUP"], "app:blue")
        self.assertEqual(fields["STATUS"], "200 OK")

    def test_preload_app_is_reported(self):
        receiver = self.receiver()
        hook.post_worker_init(fake_worker(cfg=types.SimpleNamespace(proc_name="app", preload_app=True)))
        self.assertEqual(parse(receiver.receive())["PRELOAD"], "1")
        hook.post_worker_init(fake_worker(cfg=types.SimpleNamespace(proc_name="app", preload_app=False)))
        self.assertNotIn("PRELOAD", parse(receiver.receive()))

    def test_app_spec_is_reported(self):
        receiver = self.receiver()
        hook.post_worker_init(fake_worker(app=types.SimpleNamespace(app_uri="myproject.wsgi:application")))
        self.assertEqual(parse(receiver.receive())["APP"], "myproject.wsgi:application")
        hook.post_worker_init(fake_worker(app=types.SimpleNamespace(app_uri="paste:production.ini")))
        self.assertNotIn("APP", parse(receiver.receive()))

    def test_failing_status_page_is_reported(self):
        receiver = self.receiver()

        def app(environ, start_response):
            start_response("503 Service Unavailable", [])
            return [b""]
        hook.post_worker_init(fake_worker(wsgi=app))
        fields = parse(receiver.receive())
        self.assertEqual((fields["READY"], fields["STATUS"]), ("0", "503 Service Unavailable"))

    def test_release_comes_from_the_module_named_by_the_app_uri(self):
        directory = self.tempdir()
        self.write_file(directory, "REVISION", "g-rev-7\n")
        self.write_file(directory, "gunicorn_fixture_app.py",
                        "def app(environ, start_response):\n"
                        "    start_response('200 OK', [])\n    return [b'']\n")
        sys.path.insert(0, directory)
        self.addCleanup(sys.path.remove, directory)
        self.addCleanup(sys.modules.pop, "gunicorn_fixture_app", None)
        import gunicorn_fixture_app
        receiver = self.receiver()
        hook.post_worker_init(fake_worker(
            wsgi=gunicorn_fixture_app.app,
            app=types.SimpleNamespace(app_uri="gunicorn_fixture_app:app")))
        fields = parse(receiver.receive())
        self.assertEqual(fields["RELEASE"], "g-rev-7")
        self.assertEqual(fields["ROOT"], os.path.realpath(directory))

    def test_worker_missing_everything_never_raises_and_reports_failure(self):
        receiver = self.receiver()
        self.assertIsNone(hook.post_worker_init(object()))
        fields = parse(receiver.receive())
        self.assertEqual(fields["READY"], "0")
        self.assertTrue(fields["STATUS"].startswith("error: TypeError"), fields["STATUS"])
        self.assertNotIn("GROUP", fields)
        self.assertNotIn("PPID", fields)

    def test_broken_cfg_never_raises(self):
        self.receiver()
        self.assertIsNone(hook.notify_worker(fake_worker(cfg=ExplodingCfg())))
        self.assertIn("gunicorn hook failed: RuntimeError: cfg is broken", self.stderr.getvalue())

    def test_notify_worker_returns_the_fields(self):
        receiver = self.receiver()
        fields = hook.notify_worker(fake_worker())
        self.assertEqual(fields, parse(receiver.receive()))

    def test_heartbeat_is_refreshed_before_the_probe(self):
        receiver = self.receiver()
        events = []

        def app(environ, start_response):
            events.append("probe")
            return ok_app(environ, start_response)
        hook.post_worker_init(fake_worker(wsgi=app, notify=lambda: events.append("heartbeat")))
        receiver.receive()
        self.assertEqual(events, ["heartbeat", "probe"])

    def test_failing_heartbeat_does_not_stop_the_report(self):
        receiver = self.receiver()

        def broken():
            raise OSError("tmp file gone")
        hook.post_worker_init(fake_worker(notify=broken))
        self.assertEqual(parse(receiver.receive())["READY"], "1")

    def test_pid_mismatch_is_logged_and_the_real_pid_sent(self):
        receiver = self.receiver()
        hook.post_worker_init(fake_worker(pid=1))
        self.assertEqual(parse(receiver.receive())["PID"], str(os.getpid()))
        self.assertIn("worker.pid 1 is not this process", self.stderr.getvalue())


if __name__ == "__main__":
    unittest.main()
