"""The sample application of `rolling-restart demo`.

It takes DEMO_BOOT_S seconds to import (default 1.0), like a real application loading its code,
and answers / with the worker's pid and the release in the REVISION file next to it. /_status is
the page the readiness hook probes in each new worker before it reports READY.
"""
import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))

time.sleep(float(os.environ.get("DEMO_BOOT_S", "1.0")))  # the application's import time


def release():
    try:
        with open(os.path.join(HERE, "REVISION")) as handle:
            return handle.readline().strip() or "unknown"
    except OSError:
        return "unknown"


RELEASE = release()  # what this worker loaded, fixed at boot like real code


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/_status":
        status, body = "200 OK", "ok\n"
    elif path == "/":
        time.sleep(0.005)  # a little work per request
        status, body = "200 OK", "hello from worker %d, release %s\n" % (os.getpid(), RELEASE)
    else:
        status, body = "404 Not Found", "not found\n"
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]


application = app
