"""The hook on the stacks people install from the package index: Gunicorn 26 (UvicornWorker,
-k asgi, gthread), Uvicorn's --workers supervisor, FastAPI and Django, from the venvs that
scripts/setup-venvs.sh creates; and gthread keep-alive on Debian's Gunicorn 20.1 as well."""

import http.client
import os
import shutil
import signal
import subprocess
import time
import unittest

from tests.helpers import FIXTURE_APPS, VENV_MISSING, subprocess_env, venv_bin
from tests.test_preflight import lines
from tests.test_servers import GUNICORN, ServerTestCase

VENV = "gunicorn26"
PYTHON = venv_bin(VENV)
GUNICORN26 = venv_bin(VENV, "gunicorn")
UVICORN = venv_bin(VENV, "uvicorn")
HOOK_CONFIG = "from rolling_restart_hook.gunicorn import post_worker_init\nproc_name = 'api:blue'\n"
ASGI_HOOK_LINE = "\nfrom rolling_restart_hook.asgi import notify_ready; app = notify_ready(app)\n"


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@unittest.skipUnless(PYTHON, VENV_MISSING % VENV)
class VenvPreflightTest(ServerTestCase):
    def preflight(self, target, **env):
        done = subprocess.run([PYTHON, "-m", "rolling_restart_hook.preflight", target, "--chdir", FIXTURE_APPS],
                              env=subprocess_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=60)
        return done.returncode, lines(done.stdout)

    def test_fastapi_runs_lifespan_startup_then_the_probe(self):
        code, out = self.preflight("fastapi_app:app", LIFESPAN_DELAY="0.2")
        self.assertEqual((code, out["STATUS"]), (0, "200 OK"))  # 503 unless lifespan state arrived

    def test_django_rejects_localhost_and_says_which_variable(self):
        for target in ("django_site.wsgi", "django_site.asgi"):
            code, out = self.preflight(target)
            self.assertEqual(code, 1, target)
            self.assertEqual(out["STATUS"], "400 Bad Request from GET http://localhost/_status: Host "
                             "localhost rejected (Django ALLOWED_HOSTS?); set ROLLING_RESTART_STATUS_HOST"
                             " to a host the application serves")
            code, out = self.preflight(target, ROLLING_RESTART_STATUS_HOST="example.com")
            self.assertEqual((code, out["STATUS"]), (0, "200 OK"), target)


@unittest.skipUnless(GUNICORN26 and UVICORN, VENV_MISSING % VENV)
class AsgiServerTest(ServerTestCase):
    def gunicorn(self, receiver, *args):
        config = self.write_file(self.workdir, "gunicorn.conf.py", HOOK_CONFIG)
        argv = [GUNICORN26, "-c", config, "--no-control-socket", "--chdir", FIXTURE_APPS, "-w", "2",
                "--bind", "unix:" + os.path.join(self.workdir, "g.sock")] + list(args) + ["fastapi_app:app"]
        return self.start(argv, LIFESPAN_DELAY="0.2", ROLLING_RESTART_NOTIFY=receiver.address)

    def check_workers_and_replacement(self, parent, receiver, group):
        first = self.receive(receiver, 2)
        for fields in first:
            self.assertEqual((fields["READY"], fields["STATUS"]), ("1", "200 OK"), fields)
            self.assertEqual((fields["PPID"], fields["GROUP"], fields["APP"]),
                             (str(parent.pid), group, "fastapi_app:app"))
        os.kill(int(first[0]["PID"]), signal.SIGTERM)
        replacement = self.receive(receiver, 1)[0]
        self.assertNotIn(replacement["PID"], [f["PID"] for f in first])
        self.assertEqual((replacement["READY"], replacement["PPID"]), ("1", str(parent.pid)))

    def test_uvicorn_worker_reports_after_lifespan(self):
        receiver = self.receiver()
        master = self.gunicorn(receiver, "-k", "uvicorn.workers.UvicornWorker")
        self.check_workers_and_replacement(master, receiver, "api:blue")

    def test_gunicorn_asgi_worker_reports_after_lifespan(self):
        receiver = self.receiver()
        master = self.gunicorn(receiver, "-k", "asgi")
        self.check_workers_and_replacement(master, receiver, "api:blue")

    def test_uvicorn_supervisor_workers_report_through_notify_ready(self):
        apps = os.path.join(self.workdir, "apps")
        shutil.copytree(FIXTURE_APPS, apps)
        with open(os.path.join(apps, "fastapi_app.py"), "a") as handle:
            handle.write(ASGI_HOOK_LINE)
        receiver = self.receiver()
        self.workdir = apps
        supervisor = self.start([UVICORN, "fastapi_app:app", "--workers", "2", "--port", str(free_port()),
                                 "--host", "127.0.0.1"], LIFESPAN_DELAY="0.2",
                                ROLLING_RESTART_NOTIFY=receiver.address)
        self.check_workers_and_replacement(supervisor, receiver, "fastapi_app:app")


class KeepAliveServerTest(ServerTestCase):
    """A keep-alive connection left idle across the worker's TERM is still answered (with
    Connection: close) instead of being dropped: Debian's 20.1 never serves it again otherwise."""

    def check_idle_connection_survives_term(self, gunicorn, app, wait, *extra):
        config = self.write_file(self.workdir, "gunicorn.conf.py", HOOK_CONFIG)
        port = free_port()
        self.start([gunicorn, "-c", config, "--chdir", FIXTURE_APPS, "-w", "1",
                    "--bind", "127.0.0.1:%d" % port] + list(extra) + [app],
                   BOOT_DELAY="0", LIFESPAN_DELAY="0", ROLLING_RESTART_NOTIFY="off")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.addCleanup(conn.close)
        for _ in range(100):
            try:
                conn.request("GET", "/pid")
                break
            except ConnectionRefusedError:
                conn.close()
                time.sleep(0.1)
        response = conn.getresponse()
        worker = int(response.read())
        self.assertNotEqual(response.getheader("Connection"), "close")
        os.kill(worker, signal.SIGTERM)
        time.sleep(wait)
        conn.request("GET", "/pid")
        response = conn.getresponse()
        self.assertEqual((response.status, int(response.read())), (200, worker))
        self.assertEqual(response.getheader("Connection"), "close")

    @unittest.skipUnless(GUNICORN, "gunicorn is not installed")
    def test_debian_gunicorn_gthread(self):
        # 1.5 s: past 20.1's last select() turn after the TERM, which still serves it
        self.check_idle_connection_survives_term(GUNICORN, "good:app", 1.5, "-k", "gthread", "--threads", "4")

    @unittest.skipUnless(GUNICORN26, VENV_MISSING % VENV)
    def test_gunicorn_26_gthread(self):
        self.check_idle_connection_survives_term(GUNICORN26, "good:app", 1.5, "-k", "gthread",
                                                 "--threads", "4", "--no-control-socket")

    @unittest.skipUnless(GUNICORN26, VENV_MISSING % VENV)
    def test_uvicorn_worker(self):
        # Uvicorn closes idle keep-alive connections as soon as its shutdown begins (0.1 s)
        self.check_idle_connection_survives_term(GUNICORN26, "fastapi_app:app", 0.5, "-k",
                                                 "uvicorn.workers.UvicornWorker", "--no-control-socket")


if __name__ == "__main__":
    unittest.main()
