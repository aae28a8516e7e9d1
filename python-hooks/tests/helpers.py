"""Shared test helpers: a real UDP receiver, environment isolation, stderr capture."""

import contextlib
import io
import os
import socket
import sys
import time
import unittest
from unittest import mock

HOOKS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(HOOKS_DIR)
FIXTURE_APPS = os.path.join(REPO_DIR, "test", "fixtures", "apps")

HOOK_ENV = (
    "ROLLING_RESTART_NOTIFY", "ROLLING_RESTART_SECRET_FILE", "ROLLING_RESTART_GROUP",
    "ROLLING_RESTART_RELEASE", "ROLLING_RESTART_STATUS_PATH", "ROLLING_RESTART_PROBE_TIMEOUT",
    "ROLLING_RESTART_MODE_FILE", "ROLLING_RESTART_STATUS_HOST",
)

# The venvs scripts/setup-venvs.sh creates; tests that need FastAPI, Django, Uvicorn or
# Gunicorn 26 run their interpreter in a subprocess and are skipped when it is absent.
VENVS_DIR = os.path.join(REPO_DIR, ".venvs")
VENV_MISSING = "venv %s absent: run scripts/setup-venvs.sh (part of scripts/setup.sh)"


def venv_bin(venv, name="python"):
    """The path of ``name`` in the venv, or None when the venv has not been created."""
    path = os.path.join(VENVS_DIR, venv, "bin", name)
    return path if os.access(path, os.X_OK) else None


def parse(datagram):
    """Datagram bytes -> dict, failing on anything the protocol calls malformed."""
    fields = {}
    for line in datagram.decode("utf-8").split("\n"):
        key, sep, value = line.partition("=")
        assert sep, "line without '=': %r" % line
        assert key not in fields, "repeated key %s" % key
        fields[key] = value
    return fields


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]


class Receiver(object):
    """A UDP socket bound on loopback, standing in for the supervisor."""

    def __init__(self, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.address = ("[%s]:%d" if ":" in host else "%s:%d") % (host, self.port)

    def receive(self, timeout=5.0):
        self.sock.settimeout(timeout)
        data, _ = self.sock.recvfrom(65536)
        return data

    def nothing(self, timeout=0.3):
        """True when no datagram arrives within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            self.sock.recvfrom(65536)
        except socket.timeout:
            return True
        return False

    def close(self):
        self.sock.close()


class HookTestCase(unittest.TestCase):
    """Clears the hook's environment variables and captures stderr for each test."""

    def setUp(self):
        cleaned = dict((k, v) for k, v in os.environ.items() if k not in HOOK_ENV)
        patcher = mock.patch.dict(os.environ, cleaned, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.stderr = io.StringIO()
        redirect = contextlib.redirect_stderr(self.stderr)
        redirect.__enter__()
        self.addCleanup(redirect.__exit__, None, None, None)

    def receiver(self, host="127.0.0.1"):
        receiver = Receiver(host)
        self.addCleanup(receiver.close)
        os.environ["ROLLING_RESTART_NOTIFY"] = receiver.address
        return receiver

    def write_file(self, directory, name, content):
        path = os.path.join(directory, name)
        with open(path, "w") as handle:
            handle.write(content)
        return path

    def tempdir(self):
        import tempfile
        path = tempfile.mkdtemp(prefix="rr-hook-test-")
        import shutil
        self.addCleanup(shutil.rmtree, path, True)
        return path


def run(coroutine):
    """Run ``coroutine`` in a new event loop of its own (closed afterwards)."""
    import asyncio
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def elapsed(function, *args, **kwargs):
    start = time.monotonic()
    result = function(*args, **kwargs)
    return result, time.monotonic() - start


def subprocess_env(**extra):
    env = dict((k, v) for k, v in os.environ.items() if k not in HOOK_ENV)
    env["PYTHONPATH"] = HOOKS_DIR
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


PYTHON = sys.executable
