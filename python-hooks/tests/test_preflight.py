import os
import subprocess
import time
import unittest

from tests.helpers import FIXTURE_APPS, PYTHON, HookTestCase, Receiver, subprocess_env


def lines(stdout):
    return dict(line.split("=", 1) for line in stdout.decode("utf-8").splitlines())


class PreflightTest(HookTestCase):
    def preflight(self, *args, **env):
        started = time.monotonic()
        done = subprocess.run(
            [PYTHON, "-m", "rolling_restart_hook.preflight"] + list(args),
            env=subprocess_env(BOOT_DELAY="0", **env), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=60)
        self.seconds = time.monotonic() - started
        return done.returncode, lines(done.stdout), done.stderr.decode("utf-8", "replace")

    def test_ready_app_exits_0(self):
        code, out, _ = self.preflight("good:app", "--chdir", FIXTURE_APPS)
        self.assertEqual(code, 0)
        self.assertEqual(out["READY"], "1")
        self.assertEqual(out["STATUS"], "200 OK")
        self.assertEqual(out["ROOT"], os.path.realpath(FIXTURE_APPS))

    def test_module_alone_means_application(self):
        code, out, _ = self.preflight("good", "--chdir", FIXTURE_APPS)
        self.assertEqual((code, out["READY"]), (0, "1"))

    def test_status_500_exits_1(self):
        code, out, _ = self.preflight("status_500:app", "--chdir", FIXTURE_APPS)
        self.assertEqual(code, 1)
        self.assertEqual(out["READY"], "0")
        self.assertEqual(out["STATUS"], "500 Internal Server Error")

    def test_raising_status_exits_1(self):
        code, out, _ = self.preflight("status_raises", "--chdir", FIXTURE_APPS)
        self.assertEqual(code, 1)
        self.assertEqual(out["STATUS"], "error: RuntimeError: status check exploded")

    def test_import_error_exits_2_with_traceback(self):
        code, out, err = self.preflight("crash_on_import:app", "--chdir", FIXTURE_APPS)
        self.assertEqual(code, 2)
        self.assertIn("Traceback (most recent call last)", err)
        self.assertIn("ImportError: crash_on_import", err)
        self.assertEqual(out["READY"], "0")
        self.assertIn("ImportError", out["STATUS"])

    def test_missing_module_or_attribute_exits_2(self):
        self.assertEqual(self.preflight("no_such_module:app", "--chdir", FIXTURE_APPS)[0], 2)
        code, out, err = self.preflight("good:nope", "--chdir", FIXTURE_APPS)
        self.assertEqual(code, 2)
        self.assertIn("no attribute 'nope'", err)

    def test_hang_on_import_is_cut_by_import_timeout(self):
        code, out, err = self.preflight("hang_on_import:app", "--chdir", FIXTURE_APPS,
                                        "--import-timeout", "1", HANG_SECONDS="60")
        self.assertEqual(code, 2)
        self.assertIn("took longer than 1s", out["STATUS"])
        self.assertLess(self.seconds, 20)

    def test_probe_timeout_exits_1_promptly(self):
        directory = self.tempdir()
        self.write_file(directory, "sleepy.py", (
            "import time\n"
            "def application(environ, start_response):\n"
            "    time.sleep(60)\n"))
        code, out, _ = self.preflight("sleepy", "--chdir", directory, "--timeout", "0.5")
        self.assertEqual(code, 1)
        self.assertEqual(out["STATUS"], "timeout after 0.5s")
        self.assertLess(self.seconds, 20)

    def test_factory_call_form_with_literal_arguments(self):
        directory = self.tempdir()
        self.write_file(directory, "factory.py", (
            "def create(status='500 Internal Server Error', body=b''):\n"
            "    def app(environ, start_response):\n"
            "        start_response(status, [])\n"
            "        return [body]\n"
            "    return app\n"))
        self.write_file(directory, "REVISION", "f-1\n")
        code, out, _ = self.preflight("factory:create('204 No Content', body=b'x')", "--chdir", directory)
        self.assertEqual((code, out["STATUS"], out["RELEASE"]), (0, "204 No Content", "f-1"))
        self.assertEqual(self.preflight("factory:create()", "--chdir", directory)[0], 1)
        self.assertEqual(self.preflight("factory:create(open('x'))", "--chdir", directory)[0], 2)

    def test_script_file_with_a_hook_line_sends_nothing(self):
        directory = self.tempdir()
        script = self.write_file(directory, "site.wsgi", (
            "def application(environ, start_response):\n"
            "    start_response('200 OK', [])\n"
            "    return [b'ok']\n"
            "from rolling_restart_hook.mod_wsgi import notify_ready; notify_ready(application)\n"
            "from rolling_restart_hook.uwsgi import notify_ready as u; u(application)\n"))
        receiver = Receiver()
        self.addCleanup(receiver.close)
        code, out, err = self.preflight(script, ROLLING_RESTART_NOTIFY=receiver.address)
        self.assertEqual((code, out["READY"]), (0, "1"), err)
        self.assertEqual(out["ROOT"], os.path.realpath(directory))
        self.assertTrue(receiver.nothing(0.5))

    def test_fixture_file_path(self):
        code, out, _ = self.preflight(os.path.join(FIXTURE_APPS, "status_500.py"))
        self.assertEqual(code, 1)
        self.assertEqual(out["STATUS"], "500 Internal Server Error")

    def test_bad_chdir_exits_2(self):
        code, out, _ = self.preflight("good", "--chdir", "/nonexistent/dir")
        self.assertEqual(code, 2)
        self.assertIn("cannot chdir", out["STATUS"])

    def test_release_from_environment(self):
        code, out, _ = self.preflight("good", "--chdir", FIXTURE_APPS, ROLLING_RESTART_RELEASE="r9")
        self.assertEqual(out["RELEASE"], "r9")

    def test_output_lines_are_those_of_a_datagram(self):
        code, out, _ = self.preflight("good", "--chdir", FIXTURE_APPS, ROLLING_RESTART_RELEASE="r9")
        self.assertEqual(list(out), ["READY", "STATUS", "RELEASE", "ROOT"])


if __name__ == "__main__":
    unittest.main()
