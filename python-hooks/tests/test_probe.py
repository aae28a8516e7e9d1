import os
import threading
import unittest

from rolling_restart_hook import notify
from tests.helpers import HookTestCase, elapsed, ok_app


def app_with_status(status):
    def app(environ, start_response):
        start_response(status, [("Content-Type", "text/plain")])
        return [b"body"]
    return app


class ClosingBody(object):
    def __init__(self, chunks, fail_at=None):
        self.chunks = chunks
        self.fail_at = fail_at
        self.closed = False
        self.consumed = 0

    def __iter__(self):
        for index, chunk in enumerate(self.chunks):
            if index == self.fail_at:
                raise ValueError("body broke at chunk %d" % index)
            self.consumed += 1
            yield chunk

    def close(self):
        self.closed = True


class ProbeTest(HookTestCase):
    def test_200_is_ready(self):
        self.assertEqual(notify.probe(ok_app, 5), (True, "200 OK"))

    def test_any_2xx_is_ready(self):
        self.assertEqual(notify.probe(app_with_status("204 No Content"), 5), (True, "204 No Content"))

    def test_500_is_not_ready_and_keeps_the_status_line(self):
        self.assertEqual(notify.probe(app_with_status("500 Internal Server Error"), 5),
                         (False, "500 Internal Server Error"))

    def test_redirect_is_not_ready(self):
        self.assertEqual(notify.probe(app_with_status("302 Found"), 5), (False, "302 Found"))

    def test_malformed_status_is_not_ready(self):
        self.assertFalse(notify.probe(app_with_status("2000 Huh"), 5)[0])
        self.assertFalse(notify.probe(app_with_status("OK"), 5)[0])

    def test_app_raising_is_reported_with_type_and_message(self):
        def app(environ, start_response):
            return 1 / 0
        self.assertEqual(notify.probe(app, 5), (False, "error: ZeroDivisionError: division by zero"))

    def test_exception_without_message(self):
        def app(environ, start_response):
            raise KeyError
        self.assertEqual(notify.probe(app, 5), (False, "error: KeyError"))

    def test_app_calling_sys_exit_is_contained(self):
        def app(environ, start_response):
            raise SystemExit(3)
        self.assertEqual(notify.probe(app, 5), (False, "error: SystemExit: 3"))

    def test_raising_during_iteration_is_an_error_and_close_is_still_called(self):
        body = ClosingBody([b"a", b"b", b"c"], fail_at=1)

        def app(environ, start_response):
            start_response("200 OK", [])
            return body
        self.assertEqual(notify.probe(app, 5), (False, "error: ValueError: body broke at chunk 1"))
        self.assertTrue(body.closed)

    def test_whole_body_is_consumed_and_closed(self):
        body = ClosingBody([b"a", b"", b"c"])

        def app(environ, start_response):
            start_response("200 OK", [])
            return body
        self.assertEqual(notify.probe(app, 5), (True, "200 OK"))
        self.assertEqual(body.consumed, 3)
        self.assertTrue(body.closed)

    def test_generator_app_that_starts_response_lazily(self):
        def app(environ, start_response):
            start_response("201 Created", [])
            yield b"x"
        self.assertEqual(notify.probe(app, 5), (True, "201 Created"))

    def test_error_before_body_may_replace_the_status_with_exc_info(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            try:
                raise RuntimeError("late failure")
            except RuntimeError:
                import sys
                start_response("500 Internal Server Error", [], sys.exc_info())
            return [b"sorry"]
        self.assertEqual(notify.probe(app, 5), (False, "500 Internal Server Error"))

    def test_exc_info_after_body_was_sent_reraises(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            yield b"partial"
            try:
                raise RuntimeError("broke mid-body")
            except RuntimeError:
                import sys
                start_response("500 Internal Server Error", [], sys.exc_info())
            yield b"never"
        self.assertEqual(notify.probe(app, 5), (False, "error: RuntimeError: broke mid-body"))

    def test_second_start_response_without_exc_info_is_an_error(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            start_response("200 OK", [])
            return [b""]
        ok, status = notify.probe(app, 5)
        self.assertFalse(ok)
        self.assertTrue(status.startswith("error: AssertionError"), status)

    def test_write_callable_works(self):
        def app(environ, start_response):
            write = start_response("200 OK", [])
            write(b"legacy body")
            return []
        self.assertEqual(notify.probe(app, 5), (True, "200 OK"))

    def test_missing_start_response_is_an_error(self):
        def app(environ, start_response):
            return [b"no headers"]
        ok, status = notify.probe(app, 5)
        self.assertFalse(ok)
        self.assertIn("start_response", status)

    def test_not_callable(self):
        ok, status = notify.probe(None, 5)
        self.assertFalse(ok)
        self.assertTrue(status.startswith("error: TypeError"), status)

    def test_timeout_is_honoured_and_reported(self):
        release = threading.Event()
        self.addCleanup(release.set)

        def app(environ, start_response):
            release.wait(30)
            start_response("200 OK", [])
            return [b"too late"]
        (ok, status), seconds = elapsed(notify.probe, app, 0.5)
        self.assertEqual((ok, status), (False, "timeout after 0.5s"))
        self.assertLess(seconds, 1.5)
        self.assertGreaterEqual(seconds, 0.45)

    def test_endless_body_hits_the_timeout(self):
        stop = threading.Event()
        self.addCleanup(stop.set)

        def app(environ, start_response):
            start_response("200 OK", [])
            while not stop.is_set():
                yield b"more"
                stop.wait(0.01)
        (ok, status), seconds = elapsed(notify.probe, app, 0.3)
        self.assertEqual((ok, status), (False, "timeout after 0.3s"))
        self.assertLess(seconds, 1.3)

    def test_timeout_from_environment(self):
        os.environ["ROLLING_RESTART_PROBE_TIMEOUT"] = "0.4"
        release = threading.Event()
        self.addCleanup(release.set)

        def app(environ, start_response):
            release.wait(30)
        (ok, status), seconds = elapsed(notify.probe, app)
        self.assertEqual(status, "timeout after 0.4s")
        self.assertLess(seconds, 1.4)

    def test_bad_timeout_values_fall_back_to_ten_seconds(self):
        for bad in ("abc", "0", "-3", "nan", "inf"):
            os.environ["ROLLING_RESTART_PROBE_TIMEOUT"] = bad
            self.assertEqual(notify.probe_timeout(), 10.0, bad)
        self.assertIn("ROLLING_RESTART_PROBE_TIMEOUT", self.stderr.getvalue())
        os.environ["ROLLING_RESTART_PROBE_TIMEOUT"] = "2.5"
        self.assertEqual(notify.probe_timeout(), 2.5)

    def test_probe_requests_the_status_path(self):
        os.environ["ROLLING_RESTART_STATUS_PATH"] = "/ready?full=1"
        seen = {}

        def app(environ, start_response):
            seen["path"] = environ["PATH_INFO"]
            seen["query"] = environ["QUERY_STRING"]
            start_response("200 OK", [])
            return [b""]
        notify.probe(app, 5)
        self.assertEqual(seen, {"path": "/ready", "query": "full=1"})


if __name__ == "__main__":
    unittest.main()
