import os
import unittest
from unittest import mock

from rolling_restart_hook import modes
from rolling_restart_hook.modes import ModeMiddleware, parse_mode
from rolling_restart_hook.notify import build_environ
from tests.helpers import HookTestCase


def inner_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app:" + environ["REQUEST_METHOD"].encode()]


def call(app, path="/", method="GET", script_name=""):
    environ = build_environ(path)
    environ["REQUEST_METHOD"] = method
    environ["SCRIPT_NAME"] = script_name
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = dict(headers)
    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body


class ModeMiddlewareTest(HookTestCase):
    def setUp(self):
        super(ModeMiddlewareTest, self).setUp()
        self.dir = self.tempdir()
        self.mode_file = os.path.join(self.dir, "MODE")
        self.app = ModeMiddleware(inner_app, self.mode_file)

    def set_mode(self, text):
        """Write the mode file so that its mtime surely differs from the last write."""
        previous = os.stat(self.mode_file).st_mtime_ns if os.path.exists(self.mode_file) else 0
        with open(self.mode_file, "w") as handle:
            handle.write(text)
        os.utime(self.mode_file, ns=(previous + 10 ** 9, previous + 10 ** 9))

    def test_missing_file_is_normal(self):
        self.assertEqual(call(self.app, method="POST")[2], b"app:POST")

    def test_maintenance_answers_503_with_retry_after(self):
        self.set_mode("maintenance\n")
        status, headers, body = call(self.app)
        self.assertEqual(status, "503 Service Unavailable")
        self.assertEqual(headers["Retry-After"], "60")
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn(b"maintenance", body)
        self.assertEqual(headers["Content-Length"], str(len(body)))

    def test_head_gets_the_headers_without_a_body(self):
        self.set_mode("maintenance\n")
        status, headers, body = call(self.app, method="HEAD")
        self.assertEqual(status, "503 Service Unavailable")
        self.assertEqual(headers["Retry-After"], "60")
        self.assertEqual(body, b"")
        self.assertEqual(headers["Content-Length"], str(len(call(self.app)[2])), "the length of the GET answer")

    def test_retry_after_from_the_file(self):
        self.set_mode("maintenance\nretry-after=120\n")
        self.assertEqual(call(self.app)[1]["Retry-After"], "120")

    def test_read_only_refuses_writes_and_serves_reads(self):
        self.set_mode("read-only\nretry-after = 30")
        for method in ("GET", "HEAD", "OPTIONS"):
            self.assertEqual(call(self.app, method=method)[0], "200 OK", method)
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            status, headers, body = call(self.app, method=method)
            self.assertEqual(status, "503 Service Unavailable", method)
            self.assertEqual(headers["Retry-After"], "30")
            self.assertTrue(headers["Content-Type"].startswith("text/plain"))
            self.assertIn(b"read-only", body)

    def test_status_path_always_passes(self):
        for mode in ("maintenance", "read-only", "normal"):
            self.set_mode(mode)
            self.assertEqual(call(self.app, "/_status")[0], "200 OK", mode)
            self.assertEqual(call(self.app, "/_status", method="POST")[0], "200 OK", mode)
            self.assertEqual(call(self.app, "/_status?deep=1")[0], "200 OK", mode)

    def test_status_path_from_environment_and_under_a_mount_point(self):
        os.environ["ROLLING_RESTART_STATUS_PATH"] = "/app/health?full=1"
        app = ModeMiddleware(inner_app, self.mode_file)
        self.set_mode("maintenance")
        self.assertEqual(call(app, "/app/health")[0], "200 OK")
        self.assertEqual(call(app, "/health", script_name="/app")[0], "200 OK")
        self.assertEqual(call(app, "/_status")[0], "503 Service Unavailable")

    def test_changes_are_picked_up_without_restart(self):
        self.set_mode("normal")
        self.assertEqual(call(self.app)[0], "200 OK")
        self.set_mode("maintenance")
        self.assertEqual(call(self.app)[0], "503 Service Unavailable")
        self.set_mode("normal")
        self.assertEqual(call(self.app)[0], "200 OK")
        self.set_mode("maintenance")
        os.remove(self.mode_file)
        self.assertEqual(call(self.app)[0], "200 OK")

    def test_file_is_reread_only_when_it_changed(self):
        self.set_mode("maintenance")
        real_open = open
        with mock.patch.object(modes, "open", side_effect=real_open, create=True) as opened:
            for _ in range(5):
                call(self.app)
            self.assertEqual(opened.call_count, 1)
            self.set_mode("read-only")
            call(self.app)
            self.assertEqual(opened.call_count, 2)

    def test_unknown_word_is_normal_with_one_warning(self):
        self.set_mode("maintenence")
        for _ in range(3):
            self.assertEqual(call(self.app)[0], "200 OK")
        self.assertEqual(self.stderr.getvalue().count("maintenence"), 1)

    def test_unreadable_file_keeps_the_last_mode_and_warns_once(self):
        self.set_mode("maintenance")
        self.assertEqual(call(self.app)[0], "503 Service Unavailable")
        self.set_mode("normal")  # changed, but cannot be read
        with mock.patch.object(modes, "open", side_effect=PermissionError(13, "Permission denied"),
                               create=True):
            for _ in range(3):
                self.assertEqual(call(self.app)[0], "503 Service Unavailable")
        self.assertEqual(self.stderr.getvalue().count("cannot read mode file"), 1)
        self.assertEqual(call(self.app)[0], "200 OK")  # readable again

    def test_mode_file_from_environment(self):
        os.environ["ROLLING_RESTART_MODE_FILE"] = self.mode_file
        app = ModeMiddleware(inner_app)
        self.set_mode("maintenance")
        self.assertEqual(call(app)[0], "503 Service Unavailable")

    def test_parse_mode(self):
        self.assertEqual(parse_mode(""), ("normal", 60, None))
        self.assertEqual(parse_mode("  READ-ONLY  because deploy\n"), ("read-only", 60, None))
        self.assertEqual(parse_mode("maintenance\nretry-after=abc"), ("maintenance", 60, None))
        self.assertEqual(parse_mode("bogus\nretry-after=5"), ("normal", 5, "bogus"))


if __name__ == "__main__":
    unittest.main()
