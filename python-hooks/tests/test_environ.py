import io
import os
import sys
import unittest
from wsgiref.validate import validator

from rolling_restart_hook import notify
from tests.helpers import HookTestCase


class BuildEnvironTest(HookTestCase):
    def test_has_every_key_a_server_provides(self):
        environ = notify.build_environ("/_status")
        expected = {
            "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/_status",
            "QUERY_STRING": "", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "localhost", "HTTP_USER_AGENT": "rolling-restart-probe",
            "CONTENT_LENGTH": "", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        for key, value in expected.items():
            self.assertEqual(environ[key], value, key)
        self.assertEqual(environ["wsgi.input"].read(), b"")
        self.assertIs(environ["wsgi.errors"], sys.stderr)

    def test_passes_wsgiref_validator(self):
        seen = {}

        def app(environ, start_response):
            seen.update(environ)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]

        checked = validator(app)
        statuses = []

        def start_response(status, headers, exc_info=None):
            statuses.append(status)
            return lambda data: None

        result = checked(notify.build_environ("/_status?x=1"), start_response)
        self.assertEqual(b"".join(result), b"ok")
        result.close()  # the validator asserts close() is called
        self.assertEqual(statuses, ["200 OK"])
        self.assertEqual(seen["QUERY_STRING"], "x=1")
        # and the same through probe(), which also runs it under the validator's checks
        self.assertEqual(notify.probe(validator(app), 5), (True, "200 OK"))

    def test_status_path_from_environment_with_query_string(self):
        os.environ["ROLLING_RESTART_STATUS_PATH"] = "/health/deep?db=1&cache=0"
        environ = notify.build_environ()
        self.assertEqual(environ["PATH_INFO"], "/health/deep")
        self.assertEqual(environ["QUERY_STRING"], "db=1&cache=0")

    def test_default_status_path(self):
        self.assertEqual(notify.build_environ()["PATH_INFO"], "/_status")

    def test_status_path_without_slash_is_fixed_with_a_warning(self):
        os.environ["ROLLING_RESTART_STATUS_PATH"] = "health"
        self.assertEqual(notify.build_environ()["PATH_INFO"], "/health")
        self.assertIn("ROLLING_RESTART_STATUS_PATH", self.stderr.getvalue())

    def test_path_info_is_percent_decoded_as_latin1(self):
        environ = notify.build_environ("/a%20b/%C3%A9")
        self.assertEqual(environ["PATH_INFO"], "/a b/\xc3\xa9")

    def test_host_header_carries_a_non_default_port(self):
        environ = notify.build_environ("/", host="example.test", port=8080)
        self.assertEqual(environ["HTTP_HOST"], "example.test:8080")
        self.assertEqual(environ["SERVER_PORT"], "8080")

    def test_each_environ_has_its_own_input(self):
        a, b = notify.build_environ("/"), notify.build_environ("/")
        self.assertIsInstance(a["wsgi.input"], io.BytesIO)
        self.assertIsNot(a["wsgi.input"], b["wsgi.input"])


if __name__ == "__main__":
    unittest.main()
