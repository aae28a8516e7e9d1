"""ROLLING_RESTART_STATUS_HOST, and probe answers that name the URL probed and the setting."""

import os
import unittest

from rolling_restart_hook import notify
from rolling_restart_hook.config import split_host, status_host
from rolling_restart_hook.hints import explain
from tests.helpers import HookTestCase, parse


def answering(status, headers=()):
    seen = {}

    def app(environ, start_response):
        seen["host"] = environ["HTTP_HOST"]
        start_response(status, list(headers))
        return [b""]
    return app, seen


class StatusHostTest(HookTestCase):
    def test_default_is_localhost(self):
        self.assertEqual(status_host(), "localhost")
        self.assertEqual(notify.build_environ("/")["HTTP_HOST"], "localhost")

    def test_host_from_environment_with_and_without_port(self):
        os.environ["ROLLING_RESTART_STATUS_HOST"] = "example.com"
        environ = notify.build_environ("/")
        self.assertEqual((environ["HTTP_HOST"], environ["SERVER_NAME"], environ["SERVER_PORT"]),
                         ("example.com", "example.com", "80"))
        os.environ["ROLLING_RESTART_STATUS_HOST"] = "example.com:8000"
        environ = notify.build_environ("/")
        self.assertEqual((environ["HTTP_HOST"], environ["SERVER_NAME"], environ["SERVER_PORT"]),
                         ("example.com:8000", "example.com", "8000"))

    def test_ipv6_host(self):
        self.assertEqual(split_host("[::1]:8080"), ("[::1]", "8080"))
        self.assertEqual(split_host("[::1]"), ("[::1]", None))

    def test_bad_host_falls_back_to_localhost_and_says_so(self):
        for bad in ("http://example.com", "a b", "example.com/x", "host:port"):
            os.environ["ROLLING_RESTART_STATUS_HOST"] = bad
            self.assertEqual(status_host(), "localhost", bad)
        self.assertIn("ROLLING_RESTART_STATUS_HOST", self.stderr.getvalue())

    def test_probe_sends_the_configured_host(self):
        os.environ["ROLLING_RESTART_STATUS_HOST"] = "example.com"
        app, seen = answering("200 OK")
        self.assertEqual(notify.probe(app, 5), (True, "200 OK"))
        self.assertEqual(seen["host"], "example.com")


class HintTest(HookTestCase):
    def test_400_names_the_url_the_host_and_the_variable(self):
        app, _ = answering("400 Bad Request")
        ok, status = notify.probe(app, 5)
        self.assertFalse(ok)
        self.assertEqual(status, "400 Bad Request from GET http://localhost/_status: Host localhost "
                         "rejected (Django ALLOWED_HOSTS?); set ROLLING_RESTART_STATUS_HOST to a "
                         "host the application serves")

    def test_400_names_the_host_without_its_port(self):
        os.environ["ROLLING_RESTART_STATUS_HOST"] = "example.org:8000"
        app, _ = answering("400 Bad Request")
        status = notify.probe(app, 5)[1]
        self.assertIn("GET http://example.org:8000/_status: Host example.org rejected", status)

    def test_404_names_the_path_and_the_variable(self):
        os.environ["ROLLING_RESTART_STATUS_PATH"] = "/health?deep=1"
        app, _ = answering("404 Not Found")
        self.assertEqual(notify.probe(app, 5)[1],
                         "404 Not Found from GET http://localhost/health?deep=1: no route at "
                         "/health?deep=1 (set ROLLING_RESTART_STATUS_PATH or add one)")

    def test_redirect_with_location_says_where_to(self):
        app, _ = answering("301 Moved Permanently", [("Location", "https://localhost/_status")])
        status = notify.probe(app, 5)[1]
        self.assertTrue(status.startswith("301 Moved Permanently from GET http://localhost/_status: "
                                          "redirected to https://localhost/_status"), status)
        self.assertEqual(explain("302 Found", "/_status", "localhost", [(b"location", b"/_status/")]),
                         "302 Found from GET http://localhost/_status: redirected to /_status/; the "
                         "status page must answer 2xx itself (set ROLLING_RESTART_STATUS_PATH, e.g. "
                         "with a trailing slash, or exempt it from an HTTPS redirect)")

    def test_other_statuses_are_left_as_they_are(self):
        for status in ("500 Internal Server Error", "503 Service Unavailable", "302 Found"):
            self.assertEqual(explain(status, "/_status", "localhost"), status)

    def test_hint_reaches_the_datagram_and_the_log_with_the_code_first(self):
        receiver = self.receiver()
        app, _ = answering("400 Bad Request")
        notify.notify(app)
        fields = parse(receiver.receive())
        self.assertTrue(fields["STATUS"].startswith("400 Bad Request from GET http://localhost/_status"))
        self.assertIn("ROLLING_RESTART_STATUS_HOST", self.stderr.getvalue())

    def test_a_long_path_still_fits_the_datagram(self):
        os.environ["ROLLING_RESTART_STATUS_PATH"] = "/" + "x" * 3000
        app, _ = answering("404 Not Found")
        datagram = notify.build_datagram(notify.collect(app, group="g"))
        self.assertLessEqual(len(datagram), notify.MAX_DATAGRAM_BYTES)
        self.assertTrue(parse(datagram)["STATUS"].startswith("404 Not Found from GET"))


if __name__ == "__main__":
    unittest.main()
