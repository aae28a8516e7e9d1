"""The hooks inside real Gunicorn and uWSGI masters (skipped where not installed)."""

import os
import shutil
import signal
import subprocess
import time
import unittest

from tests.helpers import FIXTURE_APPS, HookTestCase, parse, subprocess_env

GUNICORN = shutil.which("gunicorn")
UWSGI = shutil.which("uwsgi")
UWSGI_HOOK_LINE = ("\nfrom rolling_restart_hook.uwsgi import notify_ready\n"
                   "application = notify_ready(application)\n")


def uwsgi_has_python3():
    if not UWSGI:
        return False
    return any(os.path.exists(os.path.join("/usr/lib/uwsgi/plugins", name))
               for name in ("python3_plugin.so",))


class ServerTestCase(HookTestCase):
    stop_signal = signal.SIGTERM

    def start(self, argv, **env):
        log = open(os.path.join(self.workdir, "server.log"), "wb")
        self.addCleanup(log.close)
        process = subprocess.Popen(argv, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                                   env=subprocess_env(**env), start_new_session=True)
        self.addCleanup(self.stop, process)
        return process

    def stop(self, process):
        """TERM the server's own process group, then KILL it if it lingers."""
        if process.poll() is None:
            for sig, grace in ((self.stop_signal, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:
            os.killpg(process.pid, signal.SIGKILL)  # workers left behind, if any
        except ProcessLookupError:
            pass

    def server_log(self):
        with open(os.path.join(self.workdir, "server.log"), "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def receive(self, receiver, count):
        datagrams = []
        for _ in range(count):
            try:
                datagrams.append(parse(receiver.receive(20)))
            except Exception as error:
                self.fail("expected %d datagrams, got %d (%s); server log:\n%s"
                          % (count, len(datagrams), error, self.server_log()))
        return datagrams

    def setUp(self):
        super(ServerTestCase, self).setUp()
        self.workdir = self.tempdir()


@unittest.skipUnless(GUNICORN, "gunicorn is not installed")
class GunicornServerTest(ServerTestCase):
    def start_gunicorn(self, target, receiver, **env):
        config = self.write_file(self.workdir, "gunicorn.conf.py", (
            "from rolling_restart_hook.gunicorn import post_worker_init\n"
            "proc_name = 'app:blue'\nworkers = 2\n"))
        return self.start([GUNICORN, "-c", config, "--chdir", FIXTURE_APPS,
                           "--bind", "unix:" + os.path.join(self.workdir, "g.sock"), target],
                          BOOT_DELAY="0.2", ROLLING_RESTART_NOTIFY=receiver.address, **env)

    def test_every_worker_and_its_replacement_report_ready(self):
        receiver = self.receiver()
        master = self.start_gunicorn("good:app", receiver)
        first = self.receive(receiver, 2)
        for fields in first:
            self.assertEqual((fields["READY"], fields["STATUS"]), ("1", "200 OK"))
            self.assertEqual(fields["PPID"], str(master.pid))
            self.assertEqual(fields["GROUP"], "app:blue")
            self.assertEqual(fields["ROOT"], os.path.realpath(FIXTURE_APPS))
            self.assertGreaterEqual(int(fields["BOOT_MS"]), 200)  # includes BOOT_DELAY
        old = int(first[0]["PID"])
        os.kill(old, signal.SIGTERM)  # graceful stop of one worker; the master replaces it
        replacement = self.receive(receiver, 1)[0]
        self.assertNotIn(replacement["PID"], [f["PID"] for f in first])
        self.assertEqual(replacement["PPID"], str(master.pid))

    def test_failing_status_page_is_reported_and_the_master_keeps_running(self):
        receiver = self.receiver()
        master = self.start_gunicorn("status_raises:app", receiver)
        for fields in self.receive(receiver, 2):
            self.assertEqual(fields["READY"], "0")
            self.assertEqual(fields["STATUS"], "error: RuntimeError: status check exploded")
        time.sleep(0.5)
        self.assertIsNone(master.poll(), self.server_log())


@unittest.skipUnless(uwsgi_has_python3(), "uwsgi with the python3 plugin is not installed")
class UwsgiServerTest(ServerTestCase):
    stop_signal = signal.SIGINT  # TERM makes a uWSGI 2.0 master reload, INT makes it exit

    def start_uwsgi(self, receiver, *extra):
        apps = os.path.join(self.workdir, "apps")
        shutil.copytree(FIXTURE_APPS, apps)
        with open(os.path.join(apps, "good.py"), "a") as handle:
            handle.write(UWSGI_HOOK_LINE)
        argv = [UWSGI, "--plugin", "python3", "--master", "--processes", "2",
                "--socket", os.path.join(self.workdir, "u.sock"),
                "--wsgi-file", os.path.join(apps, "good.py"), "--procname-master", "uwsgi app:green"]
        return self.start(argv + list(extra), BOOT_DELAY="0.2", ROLLING_RESTART_NOTIFY=receiver.address)

    def check_workers_and_replacement(self, master, receiver):
        first = self.receive(receiver, 2)
        for fields in first:
            self.assertEqual((fields["READY"], fields["STATUS"]), ("1", "200 OK"))
            self.assertEqual(fields["PPID"], str(master.pid))
            self.assertEqual(fields["GROUP"], "uwsgi app:green")
        self.assertTrue(receiver.nothing(0.5), "mules, spoolers or the master must not report")
        os.kill(int(first[0]["PID"]), signal.SIGHUP)  # uWSGI: gracefully stop one worker
        replacement = self.receive(receiver, 1)[0]
        self.assertNotIn(replacement["PID"], [f["PID"] for f in first])
        self.assertEqual(replacement["READY"], "1")

    def test_preforked_workers_report_through_the_post_fork_hook(self):
        receiver = self.receiver()
        master = self.start_uwsgi(receiver, "--mule")
        self.check_workers_and_replacement(master, receiver)

    def test_lazy_apps_workers_report_after_loading(self):
        receiver = self.receiver()
        master = self.start_uwsgi(receiver, "--lazy-apps")
        self.check_workers_and_replacement(master, receiver)


if __name__ == "__main__":
    unittest.main()
