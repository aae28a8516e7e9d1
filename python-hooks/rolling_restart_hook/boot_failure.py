"""Gunicorn: a new worker that fails to load the app is told at once, and does not halt a master
whose other workers still serve.

In the Gunicorn config file, with ``post_worker_init`` on the same line::

    from rolling_restart_hook.gunicorn import post_worker_init, worker_exit

What Gunicorn does when a worker cannot load the app (``arbiter.py``, 20.1 and 26.x): the worker
exits with status 3 (``WORKER_BOOT_ERROR``, the import raised) or 4 (``APP_LOAD_ERROR``, no such
attribute), and ``reap_workers`` raises ``HaltServer`` for either: the whole master stops, and
every worker still serving goes with it. ``post_worker_init`` never runs for such a worker, but
``worker_exit`` does, in the worker, from ``spawn_worker``'s ``finally``: ``worker.booted`` is False
and ``sys.exc_info()`` holds the ``SystemExit(3)`` (or 4) whose ``__context__`` is the error.

So ``worker_exit`` here:

* sends ``READY=0`` with ``STATUS=boot failed: <error>``, so rolling-restart reports the real error
  at once instead of waiting for a datagram that will never come;
* when another worker of the same master that loaded the app still runs (the master is serving),
  waits a few seconds and exits with status 1 instead: Gunicorn logs it and starts another worker
  in its place, and the master and its serving workers stay up. The wait bounds the retries (one
  every few seconds, each importing the app again) until the release is fixed or rolled back;
  it ends early when the worker is told to stop.
* otherwise (the master's first workers, or none of them loaded the app), changes nothing:
  Gunicorn halts, as it always has. ``ROLLING_RESTART_HALT_ON_BOOT_ERROR=1`` keeps that always.

Which workers loaded the app is kept in a small anonymous shared mapping made in the master when
the config imports this module, so every forked worker sees what the others wrote. Nothing here
raises into Gunicorn; the only exception it lets out is the ``SystemExit(1)`` above.
"""

import mmap
import os
import struct
import sys
import time

from . import notify as _notify
from .util import describe, log

_SLOTS = 512
_SLOT = struct.Struct("i")
# Gunicorn's WORKER_BOOT_ERROR and APP_LOAD_ERROR: the statuses that halt the master
_HALTING = (3, 4)
# the status that does not: Gunicorn logs "Worker (pid:N) exited with code 1" and replaces it
_RETRY_STATUS = 1
_MAX_BACKOFF = 5.0


def _make_table():
    try:
        return mmap.mmap(-1, _SLOTS * _SLOT.size)  # MAP_SHARED | MAP_ANONYMOUS: shared across fork
    except Exception:
        return None


_table = _make_table()


def loaded(worker=None):
    """Note this worker as one that loaded the app (called from ``post_worker_init``). Never raises."""
    try:
        if _table is not None:
            pid = os.getpid()
            _SLOT.pack_into(_table, (pid % _SLOTS) * _SLOT.size, pid)
    except Exception:
        pass


def _parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def serving_siblings(ppid):
    """Workers of master ``ppid``, other than this process, that loaded the app and still run."""
    if _table is None or not isinstance(ppid, int):
        return []
    me = os.getpid()
    pids = set(_SLOT.unpack_from(_table, i * _SLOT.size)[0] for i in range(_SLOTS))
    return sorted(p for p in pids if p > 0 and p != me and _parent_of(p) == ppid)


def _boot_error(worker):
    """(status, error) when this is the worker itself ending a failed boot, else None."""
    if getattr(worker, "pid", None) != os.getpid() or getattr(worker, "booted", True):
        return None
    exc = sys.exc_info()[1]
    if not isinstance(exc, SystemExit) or exc.code not in _HALTING:
        return None
    return exc.code, (exc.__context__ or exc)


def _backoff(worker):
    timeout = getattr(getattr(worker, "cfg", None), "timeout", 30)
    try:
        return max(0.5, min(_MAX_BACKOFF, float(timeout) / 4.0))
    except (TypeError, ValueError):
        return _MAX_BACKOFF


def _wait(worker, seconds):
    """Sleep, but stop at once when the worker is told to stop (TERM sets ``alive = False``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and getattr(worker, "alive", True) is not False:
        time.sleep(0.1)


def _app_spec(worker):
    uri = getattr(getattr(worker, "app", None), "app_uri", None)
    return uri if isinstance(uri, str) and uri and not uri.startswith(("config:", "egg:", "paste:")) else None


def worker_exit(server, worker):
    """Gunicorn's ``worker_exit`` server hook (see the module's docstring)."""
    keep = False
    try:
        failed = _boot_error(worker)
        if failed is None:
            return
        status, error = failed
        siblings = serving_siblings(getattr(worker, "ppid", None))
        keep = bool(siblings) and os.environ.get("ROLLING_RESTART_HALT_ON_BOOT_ERROR", "") not in ("1", "true", "yes")
        backoff = _backoff(worker)
        then = ("the master keeps serving with workers %s and tries again in %gs"
                % (", ".join(str(p) for p in siblings), backoff)) if keep else "Gunicorn halts the master"
        message = "boot failed: %s (exit status %d: %s)" % (describe(error), status, then)
        app = _app_spec(worker)
        _notify.report(False, message, group=getattr(getattr(worker, "cfg", None), "proc_name", None),
                       ppid=getattr(worker, "ppid", None), extra={"APP": app} if app else None)
        if keep:
            _wait(worker, backoff)
    except Exception as problem:
        log("gunicorn worker_exit hook failed: %s" % describe(problem))
        keep = False
    if keep:
        # replaces the SystemExit(3 or 4) in flight: Gunicorn replaces this worker instead of halting
        raise SystemExit(_RETRY_STATUS)
