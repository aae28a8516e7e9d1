"""The fixture apps in test/fixtures/apps do what the integration tests rely on."""

import os
import subprocess
import unittest

from tests.helpers import FIXTURE_APPS, PYTHON, HookTestCase, subprocess_env

# Runs in a child interpreter: imports one fixture and prints "status|body" per path.
DRIVER = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
started = time.monotonic()
module = __import__(sys.argv[2])
print("import_seconds=%.2f" % (time.monotonic() - started))
from rolling_restart_hook.notify import build_environ
for path in sys.argv[3:]:
    out = {}
    def start_response(status, headers, exc_info=None):
        out["status"] = status
    try:
        body = b"".join(module.application(build_environ(path), start_response)).decode().strip()
        print("%s|%s|%s" % (path, out["status"], body))
    except Exception as error:
        print("%s|raised|%s: %s" % (path, type(error).__name__, error))
    if path.startswith("/alloc"):
        rss = [l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]
        print("rss_kb=%s" % rss)
"""


class FixtureAppsTest(HookTestCase):
    def run_fixture(self, name, *paths, **env):
        env.setdefault("BOOT_DELAY", "0")
        done = subprocess.run([PYTHON, "-c", DRIVER, FIXTURE_APPS, name] + list(paths),
                              env=subprocess_env(**env), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)
        lines = done.stdout.decode().splitlines()
        result = {"code": done.returncode, "stderr": done.stderr.decode()}
        for line in lines:
            if "|" in line:
                path, status, body = line.split("|", 2)
                result[path] = (status, body)
            elif "=" in line:
                key, value = line.split("=", 1)
                result[key] = value
        return result

    def test_good_routes(self):
        out = self.run_fixture("good", "/", "/_status", "/pid", "/slow?ms=50", "/nope",
                               ROLLING_RESTART_RELEASE="rel-1")
        self.assertEqual(out["/_status"], ("200 OK", "ok"))
        pid = out["/pid"][1]
        self.assertTrue(pid.isdigit())
        self.assertEqual(out["/"], ("200 OK", "ok pid=%s release=rel-1" % pid))
        self.assertEqual(out["/slow?ms=50"][0], "200 OK")
        self.assertEqual(out["/nope"][0], "404 Not Found")

    def test_good_boot_delay(self):
        self.assertGreaterEqual(float(self.run_fixture("good", BOOT_DELAY="0.5")["import_seconds"]), 0.5)
        env = subprocess_env()
        env.pop("BOOT_DELAY", None)
        done = subprocess.run([PYTHON, "-c", DRIVER, FIXTURE_APPS, "slow_boot"], env=env,
                              stdout=subprocess.PIPE, timeout=60)
        self.assertGreaterEqual(float(done.stdout.decode().split("=")[1]), 3.0)

    def test_alloc_keeps_memory(self):
        out = self.run_fixture("good", "/alloc?mb=1", "/alloc?mb=64")
        self.assertEqual(out["/alloc?mb=64"][0], "200 OK")
        rss_kb = int(out["rss_kb"])  # printed after the last /alloc
        self.assertGreater(rss_kb, 64 * 1024)

    def test_status_500(self):
        out = self.run_fixture("status_500", "/", "/_status")
        self.assertEqual(out["/"][0], "200 OK")
        self.assertEqual(out["/_status"][0], "500 Internal Server Error")

    def test_status_raises(self):
        out = self.run_fixture("status_raises", "/", "/_status")
        self.assertEqual(out["/"][0], "200 OK")
        self.assertEqual(out["/_status"], ("raised", "RuntimeError: status check exploded"))

    def test_crash_on_import(self):
        out = self.run_fixture("crash_on_import", "/")
        self.assertNotEqual(out["code"], 0)
        self.assertIn("ImportError: crash_on_import", out["stderr"])

    def test_hang_on_import_honours_hang_seconds(self):
        out = self.run_fixture("hang_on_import", "/_status", HANG_SECONDS="0.3")
        self.assertGreaterEqual(float(out["import_seconds"]), 0.3)
        self.assertEqual(out["/_status"][0], "200 OK")

    def test_release_from_revision_file_next_to_the_app(self):
        apps = os.path.join(self.tempdir(), "apps")
        import shutil
        shutil.copytree(FIXTURE_APPS, apps)
        self.write_file(apps, "REVISION", "from-revision\n")
        done = subprocess.run([PYTHON, "-c", DRIVER, apps, "good", "/"],
                              env=subprocess_env(BOOT_DELAY="0"), stdout=subprocess.PIPE, timeout=60)
        self.assertIn("release=from-revision", done.stdout.decode())


if __name__ == "__main__":
    unittest.main()
