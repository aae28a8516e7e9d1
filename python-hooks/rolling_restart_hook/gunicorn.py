"""Gunicorn readiness hook.

In the Gunicorn config file (``-c gunicorn.conf.py``), one line::

    from rolling_restart_hook.gunicorn import post_worker_init, worker_exit

(``worker_exit``, in ``boot_failure``: a worker that fails to load the app says so, and does not
halt a master whose other workers serve.)

If you already have a ``post_worker_init``, call ``notify_worker(worker)`` from it
(last, once your own initialisation is done).

What Gunicorn 20.1 does around this hook (read in its source):

* ``gunicorn/config.py``, class ``PostWorkerInit``: the setting is validated with
  ``validate_callable(1)``; the hook receives one argument, the ``Worker`` object,
  "just after a worker has initialized the application".
* ``gunicorn/workers/base.py``, ``Worker.init_process()``, in the forked worker:
  applies ``cfg.env`` to ``os.environ``, switches uid/gid, installs the worker's
  signal handlers (TERM sets ``alive = False``; INT and QUIT call ``sys.exit(0)``),
  runs ``load_wsgi()`` (``self.wsgi = self.app.wsgi()``, which imports the
  application unless ``preload_app`` already did it in the master), then calls
  ``cfg.post_worker_init(self)``, and only after it returns sets ``booted = True``
  and enters ``run()``, the accept loop. So the probe runs with the application
  loaded but before this worker accepts any connection; the listening sockets are
  already open (inherited from the arbiter), and meanwhile the other workers serve.
* ``gunicorn/arbiter.py``, ``Arbiter.spawn_worker()``: an exception escaping
  ``init_process()`` while ``worker.booted`` is False makes the worker exit with
  ``WORKER_BOOT_ERROR`` (3), and the arbiter then halts the whole server ("Worker
  failed to boot."). This hook therefore never raises. SystemExit from the
  worker's own INT/QUIT handlers is let through, as Gunicorn expects.
* ``worker.ppid`` is the arbiter's pid (given to the Worker before the fork),
  ``worker.pid`` is ``os.getpid()`` of the worker, ``worker.cfg.proc_name`` is
  ``proc_name`` or, unset, the application URI, and ``worker.app.app_uri`` names
  the module that was imported.
* The arbiter kills a worker whose heartbeat file (``WorkerTmp``, refreshed by
  ``worker.notify()``) is older than ``--timeout`` (default 30 s), booting or not:
  the hook refreshes it before probing, but keep ROLLING_RESTART_PROBE_TIMEOUT
  below Gunicorn's timeout.
* With ``preload_app = True`` the worker's ``self.app.wsgi()`` returns the object
  the master loaded: a restarted worker runs the master's code, not the code on
  disk. The RELEASE and ROOT in the datagram then show the old release.
"""

import os
import sys

from . import gunicorn_asgi
from . import keepalive
from . import notify as _notify
from .identity import is_installed_library
from .util import describe, log
from .master_record import record as _record
from . import boot_failure as _boot
from .boot_failure import worker_exit  # noqa: F401  (offered next to post_worker_init)

_record("gunicorn")  # in the master (the config file imports us), before setproctitle


def _module_file_from_uri(worker):
    """The file of the module named by the app URI (``pkg.wsgi:app`` -> pkg/wsgi.py)."""
    uri = getattr(getattr(worker, "app", None), "app_uri", None)
    if not isinstance(uri, str) or not uri or uri.startswith(("config:", "egg:")):
        return None
    module = sys.modules.get(uri.split(":", 1)[0])
    path = getattr(module, "__file__", None)
    if isinstance(path, str) and not is_installed_library(path):
        return path
    return None


def _heartbeat(worker):
    """Refresh the worker's heartbeat (WorkerTmp) so that the time spent importing the
    application does not count against Gunicorn's --timeout during the probe."""
    heartbeat = getattr(worker, "notify", None)
    if callable(heartbeat):
        try:
            heartbeat()
        except Exception:
            pass


def _extra_fields(worker, cfg):
    extra = {}
    # With preload_app the worker runs what the master imported when it started; RELEASE and
    # ROOT, read from disk now, would describe new code the worker does not run. Say so.
    if getattr(cfg, "preload_app", False) is True:
        extra["PRELOAD"] = "1"
    # The app spec (module:callable) as Gunicorn was given it: a titled master hides its command
    # line, so this is how the supervisor's preflight learns what to load.
    uri = getattr(getattr(worker, "app", None), "app_uri", None)
    if isinstance(uri, str) and uri and not uri.startswith(("config:", "egg:", "paste:")):
        extra["APP"] = uri
    return extra


def notify_worker(worker):
    """Probe the worker's application and send the datagram for this worker. Never raises.

    A WSGI worker is probed here and the fields are returned. An ASGI worker (UvicornWorker,
    ``-k asgi``) gets its application wrapped instead, and reports once its event loop has run
    lifespan startup; then this returns None.
    """
    try:
        cfg = getattr(worker, "cfg", None)
        pid = getattr(worker, "pid", None)
        if isinstance(pid, int) and pid != os.getpid():
            log("worker.pid %s is not this process (%s): reporting %s"
                % (pid, os.getpid(), os.getpid()))
        _heartbeat(worker)
        report = {"group": getattr(cfg, "proc_name", None), "ppid": getattr(worker, "ppid", None),
                  "extra": _extra_fields(worker, cfg), "app_file": _module_file_from_uri(worker)}
        if gunicorn_asgi.install(worker, report) is not None:
            return None
        # A worker without .wsgi is reported as a failed probe (READY=0), not skipped:
        # the supervisor is waiting for this worker and should learn why it failed.
        app = getattr(worker, "wsgi", None)
        mismatch = gunicorn_asgi.wrong_worker_class(worker, app)
        if mismatch:
            return _notify.report(False, mismatch, app=app, **report)
        fields = _notify.notify(app, **report)
        keepalive.install(worker)
        return fields
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        log("gunicorn hook failed: %s" % describe(error))
        return None


def post_worker_init(worker):
    """Gunicorn's ``post_worker_init`` server hook."""
    _boot.loaded(worker)
    notify_worker(worker)
