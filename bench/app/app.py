"""The benchmark's WSGI application: its costs are parameters, read from the environment.

BENCH_BOOT_S     seconds each worker spends importing this module (default 2.0): the boot time
BENCH_BOOT_CPU   1: spend the boot time computing instead of sleeping (default 0, sleeping)
BENCH_REQUEST_MS milliseconds each request to / takes (default 20)
BENCH_REQUEST_CPU 1: spend them computing instead of sleeping (default 0: waiting, like a database call)

/_status answers 200 at once: the hook's in-process readiness probe.
"""
import os
import time


def _number(name, default):
    try:
        return max(0.0, float(os.environ.get(name, default)))
    except ValueError:
        return float(default)


BOOT_S = _number("BENCH_BOOT_S", 2.0)
BOOT_CPU = os.environ.get("BENCH_BOOT_CPU") == "1"
REQUEST_S = _number("BENCH_REQUEST_MS", 20) / 1000.0
REQUEST_CPU = os.environ.get("BENCH_REQUEST_CPU") == "1"


def _spend(seconds, cpu):
    if not cpu:
        time.sleep(seconds)
        return
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(1000))


_spend(BOOT_S, BOOT_CPU)  # the application's import time


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/_status":
        body = b"ok\n"
    elif path == "/":
        _spend(REQUEST_S, REQUEST_CPU)
        body = ("ok pid=%d\n" % os.getpid()).encode("ascii")
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return [b"not found\n"]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = app
