"""Keep-alive during a graceful stop of a Gunicorn WSGI worker, so that a rolling restart drops
no request on a connection the client reuses.

Gunicorn decides ``Connection: keep-alive`` or ``close`` when it writes the response headers
(``Response.default_headers``), from ``force_close()`` calls made when the request started;
it closes the connection once the response is done if the worker is no longer ``alive``. So a
response that began before SIGTERM promises keep-alive and the connection is closed under the
client, and on Gunicorn 20.1 the idle keep-alive connections are never served again after the
TERM: a client reusing one gets an empty reply. Two measures, both from ``post_worker_init``:

* ``close_when_stopping``: every response checks, when its headers are written, whether a
  graceful stop began, and then says ``Connection: close`` (all WSGI workers);
* ``drain_on_term`` (gthread, keep-alive on): SIGTERM first *drains*: the worker stops
  accepting, keeps serving the connections it has (each answer now says ``close``) until none
  is left or the drain deadline passes, and only then runs Gunicorn's own SIGTERM handling.
  Idle connections end at Gunicorn's keep-alive timeout as they always do. A TERM that comes
  again while it drains (the master repeats it each turn of its loop to a worker it retires on
  TTOU) changes nothing: ``TERM_REPEAT`` says so in the loaded-files record, where rolling-restart
  reads it before it lets the master retire a worker.

Both leave the worker as it was when anything they rely on is missing.
"""

import signal
import time

from .util import describe, log

# Longest drain: keep-alive timeout plus this, and never past graceful_timeout.
DRAIN_MARGIN = 5.0

# What a TERM received while draining does (here and in uvicorn.py): nothing, the drain goes on.
# Hooks before this one stopped at once on it. Recorded in the loaded-files record's header.
TERM_REPEAT = "keeps-draining"


class _Stop(object):
    """Whether this worker began a graceful stop: TERM received (draining) or not alive."""

    def __init__(self, worker):
        self.worker = worker
        self.draining = False
        self.deadline = None

    def __call__(self):
        return self.draining or not getattr(self.worker, "alive", True)


def close_when_stopping(worker, stop=None):
    """Wrap ``worker.wsgi`` so a response whose headers are written once a graceful stop began
    carries ``Connection: close``. Returns the stop flag, or None when nothing was changed."""
    app = getattr(worker, "wsgi", None)
    if app is None or not hasattr(worker, "alive"):
        return None
    stop = stop or _Stop(worker)

    def application(environ, start_response):
        response = getattr(start_response, "__self__", None)
        original = getattr(response, "default_headers", None)
        if original is not None and callable(getattr(response, "force_close", None)):
            def default_headers():
                if stop():
                    response.force_close()
                return original()
            response.default_headers = default_headers
        return app(environ, start_response)

    application.rolling_restart_wrapped = app
    worker.wsgi = application
    return stop


def _is_gthread(worker):
    return type(worker).__module__ == "gunicorn.workers.gthread" and hasattr(worker, "nr_conns")


def _stop_accepting(worker):
    """Gunicorn 26 (``set_accept_enabled``, which its loop calls again: kept off); 20.1 (the
    listeners are unregistered from the poller, which its loop never re-registers)."""
    enable = getattr(worker, "set_accept_enabled", None)
    if callable(enable):
        def set_accept_enabled(enabled):
            enable(False)
        worker.set_accept_enabled = set_accept_enabled
        enable(False)
        return
    for sock in worker.sockets:
        try:
            worker.poller.unregister(sock)
        except (KeyError, ValueError, OSError):
            pass


def drain_on_term(worker, stop):
    """Install the draining SIGTERM handler on a gthread worker with keep-alive on.

    Returns True when installed. The handler only sets flags; the work runs in the worker's
    own loop, from ``murder_keepalived``, which both 20.1 and 26 call once per loop turn.
    """
    cfg = getattr(worker, "cfg", None)
    keepalive = getattr(cfg, "keepalive", 0) or 0
    original_exit = getattr(worker, "handle_exit", None)
    murder = getattr(worker, "murder_keepalived", None)
    if not (_is_gthread(worker) and keepalive > 0 and callable(original_exit) and callable(murder)):
        return False
    graceful = float(getattr(cfg, "graceful_timeout", 30) or 30)
    state = {"accepting": True}

    def on_term(sig, frame):
        if not worker.alive:
            return original_exit(sig, frame)
        if stop.draining:
            # Gunicorn repeats the TERM of a worker it retires on TTOU at each turn of its loop
            # (manage_workers, until it is reaped): keep draining. The deadline bounds the drain;
            # SIGQUIT and SIGINT still stop the worker at once, and the master kills it at
            # graceful_timeout.
            return None
        stop.draining = True
        stop.deadline = time.monotonic() + min(graceful, keepalive + DRAIN_MARGIN)
        queue = getattr(worker, "method_queue", None)  # 26: wake the poller as handle_exit does
        if queue is not None:
            queue.defer(lambda: None)

    def murder_keepalived():
        murder()
        if not stop.draining or not worker.alive:
            return
        try:
            if state["accepting"]:
                state["accepting"] = False
                _stop_accepting(worker)
            if worker.nr_conns > 0 and time.monotonic() < stop.deadline:
                return
        except Exception as error:
            log("keep-alive drain failed, stopping at once: %s" % describe(error))
        original_exit(signal.SIGTERM, None)

    worker.murder_keepalived = murder_keepalived
    signal.signal(signal.SIGTERM, on_term)
    return True


def install(worker):
    """Both measures, as far as the worker allows; never raises."""
    try:
        stop = close_when_stopping(worker)
        if stop is not None:
            drain_on_term(worker, stop)
    except Exception as error:
        log("keep-alive handling not installed: %s" % describe(error))
