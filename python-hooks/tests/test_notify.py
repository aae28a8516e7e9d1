import hashlib
import hmac
import os
import socket
import subprocess
import threading
import unittest
from unittest import mock

from rolling_restart_hook import identity, notify
from tests.helpers import PYTHON, HookTestCase, elapsed, ok_app, parse, subprocess_env


class ParseNotifyTest(HookTestCase):
    def test_valid_addresses(self):
        self.assertEqual(notify.parse_notify("127.0.0.1:4012"), ("127.0.0.1", 4012))
        self.assertEqual(notify.parse_notify(" localhost:9 "), ("localhost", 9))
        self.assertEqual(notify.parse_notify("[::1]:5000"), ("::1", 5000))
        self.assertEqual(self.stderr.getvalue(), "")

    def test_off_in_any_case(self):
        for value in ("off", "OFF", " Off "):
            self.assertIsNone(notify.parse_notify(value))

    def test_unset_or_empty_is_the_default_silently(self):
        self.assertEqual(notify.parse_notify(None), ("127.0.0.1", 4012))
        self.assertEqual(notify.parse_notify(""), ("127.0.0.1", 4012))
        self.assertEqual(self.stderr.getvalue(), "")

    def test_bad_values_warn_and_use_the_default(self):
        for bad in ("nonsense", "1.2.3.4", "1.2.3.4:99999", "host:0", ":80", "[::1]",
                    "::1:4012", "udp://1.2.3.4:5", "a b:1"):
            self.assertEqual(notify.parse_notify(bad), ("127.0.0.1", 4012), bad)
            self.assertIn(repr(bad), self.stderr.getvalue())


class SecretTest(HookTestCase):
    def test_trailing_whitespace_is_removed(self):
        path = self.write_file(self.tempdir(), "secret", "  key with spaces \t\r\n\n")
        os.environ["ROLLING_RESTART_SECRET_FILE"] = path
        self.assertEqual(notify.read_secret(), b"  key with spaces")

    def test_unset_means_no_secret_and_no_warning(self):
        self.assertIsNone(notify.read_secret())
        self.assertEqual(self.stderr.getvalue(), "")

    def test_missing_file_warns(self):
        os.environ["ROLLING_RESTART_SECRET_FILE"] = "/nonexistent/secret"
        self.assertIsNone(notify.read_secret())
        self.assertIn("/nonexistent/secret", self.stderr.getvalue())
        self.assertIn("without MAC", self.stderr.getvalue())

    def test_blank_file_warns(self):
        os.environ["ROLLING_RESTART_SECRET_FILE"] = self.write_file(self.tempdir(), "s", " \n")
        self.assertIsNone(notify.read_secret())
        self.assertIn("is empty", self.stderr.getvalue())


class NotifySendsTest(HookTestCase):
    def test_sends_the_fields_to_the_listener(self):
        receiver = self.receiver()
        returned = notify.notify(ok_app, group="app:blue", ppid=77)
        fields = parse(receiver.receive())
        self.assertEqual(fields["READY"], "1")
        self.assertEqual(fields["PID"], str(os.getpid()))
        self.assertEqual(fields["PPID"], "77")
        self.assertEqual(fields["GROUP"], "app:blue")
        self.assertEqual(fields["STATUS"], "200 OK")
        self.assertTrue(fields["BOOT_MS"].isdigit())
        self.assertEqual(returned, fields)
        self.assertIn("pid %d READY=1 200 OK -> %s" % (os.getpid(), receiver.address),
                      self.stderr.getvalue())

    def test_failed_probe_is_sent_as_ready_0(self):
        receiver = self.receiver()

        def app(environ, start_response):
            raise RuntimeError("db down")
        notify.notify(app)
        fields = parse(receiver.receive())
        self.assertEqual(fields["READY"], "0")
        self.assertEqual(fields["STATUS"], "error: RuntimeError: db down")

    def test_log_line_stays_one_line(self):
        self.receiver()

        def app(environ, start_response):
            start_response("500 Oops\r\nInjected: header", [])
            return [b""]
        notify.notify(app)
        lines = [l for l in self.stderr.getvalue().splitlines() if "READY=" in l]
        self.assertEqual(len(lines), 1)
        self.assertIn("READY=0 500 Oops  Injected: header ->", lines[0])

    def test_group_from_environment_wins(self):
        receiver = self.receiver()
        os.environ["ROLLING_RESTART_GROUP"] = "override"
        notify.notify(ok_app, group="from-server")
        self.assertEqual(parse(receiver.receive())["GROUP"], "override")

    def test_release_and_root_come_from_the_code_directory(self):
        base = self.tempdir()
        release_dir = os.path.join(base, "releases", "A")
        os.makedirs(release_dir)
        os.symlink(release_dir, os.path.join(base, "current"))
        self.write_file(release_dir, "REVISION", "abc123\nsecond line\n")
        app_file = self.write_file(release_dir, "wsgi.py", "")
        receiver = self.receiver()
        notify.notify(ok_app, app_file=os.path.join(base, "current", "wsgi.py"))
        fields = parse(receiver.receive())
        self.assertEqual(fields["RELEASE"], "abc123")
        self.assertEqual(fields["ROOT"], os.path.realpath(release_dir))
        self.assertTrue(os.path.exists(app_file))

    def test_release_from_environment_wins_over_revision(self):
        directory = self.tempdir()
        self.write_file(directory, "REVISION", "from-file")
        os.environ["ROLLING_RESTART_RELEASE"] = "from-env"
        receiver = self.receiver()
        notify.notify(ok_app, app_file=os.path.join(directory, "app.py"))
        self.assertEqual(parse(receiver.receive())["RELEASE"], "from-env")

    def test_no_release_when_nothing_names_one(self):
        receiver = self.receiver()
        notify.notify(ok_app, app_file=os.path.join(self.tempdir(), "app.py"))
        self.assertNotIn("RELEASE", parse(receiver.receive()))

    def test_module_inside_a_package_reports_the_directory_above_the_package(self):
        root = self.tempdir()
        package = os.path.join(root, "myproject")
        os.makedirs(package)
        self.write_file(package, "__init__.py", "")
        self.write_file(root, "REVISION", "pkg-rev")
        self.assertEqual(notify.app_directory(app_file=os.path.join(package, "wsgi.py")), root)
        self.assertEqual(notify.read_release(root), "pkg-rev")

    def test_code_directory_of_a_library_object_falls_back_to_cwd(self):
        import json
        self.assertEqual(notify.app_directory(json.JSONDecoder()), os.getcwd())
        # tests.helpers lives in the package "tests": its code root is the directory above
        self.assertEqual(notify.app_directory(parse),
                         os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def test_secret_adds_a_valid_mac(self):
        os.environ["ROLLING_RESTART_SECRET_FILE"] = self.write_file(self.tempdir(), "k", "topsecret\n")
        receiver = self.receiver()
        notify.notify(ok_app)
        datagram = receiver.receive()
        body, mac = datagram.split(b"MAC=")
        self.assertEqual(mac.decode(), hmac.new(b"topsecret", body, hashlib.sha256).hexdigest())

    def test_unreadable_secret_still_sends_without_mac(self):
        os.environ["ROLLING_RESTART_SECRET_FILE"] = "/nonexistent/key"
        receiver = self.receiver()
        notify.notify(ok_app)
        fields = parse(receiver.receive())
        self.assertNotIn("MAC", fields)
        self.assertEqual(fields["READY"], "1")
        self.assertIn("will reject it", self.stderr.getvalue())

    def test_ipv6_listener(self):
        if not socket.has_ipv6:
            self.skipTest("no IPv6 support")
        try:
            receiver = self.receiver("::1")
        except OSError as error:
            self.skipTest("cannot bind ::1: %s" % error)
        notify.notify(ok_app)
        self.assertEqual(parse(receiver.receive())["READY"], "1")
        self.assertIn("-> [::1]:%d" % receiver.port, self.stderr.getvalue())

    def test_off_probes_but_sends_nothing(self):
        receiver = self.receiver()
        os.environ["ROLLING_RESTART_NOTIFY"] = "off"
        calls = []

        def app(environ, start_response):
            calls.append(1)
            return ok_app(environ, start_response)
        fields = notify.notify(app)
        self.assertEqual(calls, [1])
        self.assertEqual(fields["READY"], "1")
        self.assertTrue(receiver.nothing())
        self.assertIn("off", self.stderr.getvalue())

    def test_suppressed_does_nothing(self):
        receiver = self.receiver()
        with mock.patch.object(notify, "SUPPRESSED", True):
            self.assertIsNone(notify.notify(ok_app))
        self.assertTrue(receiver.nothing())


class NotifyNeverRaisesTest(HookTestCase):
    def test_unresolvable_destination(self):
        os.environ["ROLLING_RESTART_NOTIFY"] = "256.0.0.1:4012"
        self.assertIsNone(notify.notify(ok_app))
        self.assertIn("send failed", self.stderr.getvalue())

    def test_sendto_failing(self):
        self.receiver()
        with mock.patch("socket.socket.sendto", side_effect=PermissionError(1, "Operation not permitted")):
            self.assertIsNone(notify.notify(ok_app))
        self.assertIn("PermissionError", self.stderr.getvalue())

    def test_garbage_environment(self):
        os.environ.update({
            "ROLLING_RESTART_NOTIFY": "garbage", "ROLLING_RESTART_PROBE_TIMEOUT": "soon",
            "ROLLING_RESTART_STATUS_PATH": "\x01", "ROLLING_RESTART_SECRET_FILE": "/nonexistent",
            "ROLLING_RESTART_RELEASE": "\n", "ROLLING_RESTART_GROUP": "\x1b",
        })
        fields = notify.notify(ok_app)
        self.assertIsNotNone(fields)  # sent to the default address; nobody needs to listen
        self.assertEqual(fields["READY"], "1")

    def test_broken_apps_are_reported_not_raised(self):
        receiver = self.receiver()
        for app in (None, 42, lambda: None, lambda environ, start_response: 1 / 0):
            notify.notify(app)
            self.assertEqual(parse(receiver.receive())["READY"], "0")

    def test_hanging_app_costs_at_most_the_timeout(self):
        receiver = self.receiver()
        os.environ["ROLLING_RESTART_PROBE_TIMEOUT"] = "0.5"
        release = threading.Event()
        self.addCleanup(release.set)
        _, seconds = elapsed(notify.notify, lambda environ, start_response: release.wait(30))
        self.assertLess(seconds, 1.5)
        self.assertEqual(parse(receiver.receive())["STATUS"], "timeout after 0.5s")

    def test_internal_failure_is_logged(self):
        with mock.patch.object(notify, "collect", side_effect=RuntimeError("boom")):
            self.assertIsNone(notify.notify(ok_app))
        self.assertIn("readiness hook failed: RuntimeError: boom", self.stderr.getvalue())

    def test_failures_in_optional_fields_still_send(self):
        receiver = self.receiver()
        with mock.patch.object(notify, "read_release", side_effect=OSError("eio")), \
                mock.patch.object(identity, "_seconds_since_boot", side_effect=OSError("no /proc")):
            notify.notify(ok_app)
        fields = parse(receiver.receive())
        self.assertEqual(fields["READY"], "1")
        self.assertNotIn("RELEASE", fields)
        self.assertTrue(fields["BOOT_MS"].isdigit())

    def test_server_signals_are_let_through(self):
        # Gunicorn's INT/QUIT handlers call sys.exit(): the worker must still stop.
        with mock.patch.object(notify, "collect", side_effect=SystemExit(0)):
            with self.assertRaises(SystemExit):
                notify.notify(ok_app)


class BootTimeTest(HookTestCase):
    def test_counts_from_process_start_not_from_import(self):
        code = ("import time; time.sleep(0.4)\n"
                "from rolling_restart_hook.notify import process_age_ms\n"
                "print(process_age_ms())")
        output = subprocess.check_output([PYTHON, "-c", code], env=subprocess_env(), timeout=30)
        self.assertGreaterEqual(int(output), 390)
        self.assertLess(int(output), 10000)

    def test_without_proc_falls_back_to_time_since_import(self):
        with mock.patch.object(identity, "open", side_effect=OSError("no /proc"), create=True):
            age = notify.process_age_ms()
        self.assertIsInstance(age, int)
        self.assertGreaterEqual(age, 0)


if __name__ == "__main__":
    unittest.main()
