"""What the workers will load, recorded where rolling-restart can read it on its very first run.

With ``python3-setproctitle`` a Gunicorn master retitles itself ``gunicorn: master [NAME]``, which
overwrites its command line and blanks ``/proc/PID/environ``; a uWSGI master with
``procname-master`` does the same. rolling-restart's preflight (load the new code in a throwaway
interpreter before any worker is touched) then cannot see what the workers load.

So the hook writes a record when the server first imports it, before the title is set: the
arguments, the working directory, the interpreter, ``sys.path``, the environment, and (uWSGI) the
options. Gunicorn imports the hook from its config file in the master, at start; uWSGI imports it
with the application (in the master, or in each worker with ``lazy-apps``).

The record is an anonymous file, ``os.memfd_create("rolling-restart-record", MFD_CLOEXEC)``, kept
open. rolling-restart finds it among the process's open files
(``/proc/PID/fd/N -> /memfd:rolling-restart-record (deleted)``) and reads it there. It lives only
as long as the process and is never on disk. Only a user who may read the process's environment
anyway (the same user, or root) can open it, because the kernel checks ``/proc/PID/fd`` and
``/proc/PID/environ`` the same way. Forked workers inherit it. ``MFD_CLOEXEC`` closes it on exec,
so whoever holds it is a fork of the process that wrote it, running the same program. A master
that re-executes itself (Gunicorn USR2, a uWSGI reload) writes a fresh record.

The record is JSON. Setting ``ROLLING_RESTART_RECORD=off`` writes none. Without
``os.memfd_create`` (not Linux, or Python built without it) nothing is written. Nothing here
raises.
"""

import json
import os
import sys
import time

from . import memfd
from .util import describe, log

NAME = "rolling-restart-record"
VERSION = 1
# far above any real environment; a record larger than this is not written
MAX_BYTES = 1024 * 1024

_written_by = None


def _interpreter():
    """A Python that loads what this process loads (uWSGI's sys.executable is uwsgi itself)."""
    exe = sys.executable or ""
    if os.path.basename(exe).startswith("python") and os.path.exists(exe):
        return exe
    version = "python%d.%d" % sys.version_info[:2]
    for name in (version, "python3", "python"):
        path = os.path.join(sys.prefix, "bin", name)
        if os.path.exists(path):
            return path
    return None


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is True:
        return True
    return str(value)


def _uwsgi_options():
    """``uwsgi.opt`` as JSON: option -> value, list of values, or true for a flag."""
    try:
        import uwsgi  # only importable inside uWSGI
    except ImportError:
        return None
    options = {}
    for key, value in dict(getattr(uwsgi, "opt", {}) or {}).items():
        name = _text(key)
        options[name] = [_text(v) for v in value] if isinstance(value, (list, tuple)) else _text(value)
    return options


def build(server):
    """The record as a dict."""
    record = {
        "version": VERSION,
        "server": server,
        "pid": os.getpid(),
        "at": time.time(),
        "argv": list(sys.argv),
        "origArgv": list(getattr(sys, "orig_argv", []) or []) or None,
        "executable": sys.executable,
        "interpreter": _interpreter(),
        "prefix": sys.prefix,
        "pythonVersion": "%d.%d.%d" % sys.version_info[:3],
        "cwd": os.getcwd(),
        "path": [p for p in sys.path if isinstance(p, str)],
        "env": dict(os.environ),
    }
    if server == "uwsgi":
        record["uwsgi"] = _uwsgi_options()
    return record


def record(server):
    """Write the record once; return its fd, or None. Never raises.

    Once: a forked child (a Gunicorn worker) already holds its parent's record and writes none.
    """
    global _written_by
    try:
        if _written_by is not None:
            return None
        if not memfd.available("ROLLING_RESTART_RECORD"):
            return None
        fd = memfd.write(NAME, json.dumps(build(server), separators=(",", ":")).encode("utf-8"), MAX_BYTES, "master record")
        if fd is not None:
            _written_by = os.getpid()
        return fd
    except Exception as error:
        log("master record not written: %s" % describe(error))
        return None
