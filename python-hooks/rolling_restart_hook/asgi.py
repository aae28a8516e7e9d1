"""Readiness for ASGI applications, under any ASGI server.

As the last line of the module that defines the application::

    from rolling_restart_hook.asgi import notify_ready; app = notify_ready(app)

``notify_ready`` returns a wrapper that passes every call through unchanged. When the server
has run the application's lifespan startup (``lifespan.startup.complete``), the wrapper probes
the status path in-process through the ASGI interface, as a task of the server's event loop,
and sends the readiness datagram: PID is this worker, PPID its parent (Uvicorn's ``--workers``
supervisor), GROUP is ROLLING_RESTART_GROUP, else the ``group`` argument, else the app spec
the supervisor was started with (``main:app``, also sent as APP), else the name of the module
that called ``notify_ready``.

When no lifespan call comes (``--lifespan off``, or a server without lifespan support), the
probe starts one second after the application was imported inside a running event loop (as
Uvicorn imports it), or else at the first request.

Once the server begins a graceful stop, responses that start from then on carry
``Connection: close``, so clients reconnect to another worker instead of reusing a connection
this one is about to close.

Nothing here raises into the server or delays its startup: the probe runs beside it and is
cancelled after ROLLING_RESTART_PROBE_TIMEOUT.
"""

import asyncio
import os
import sys

from . import notify as _notify
from . import uvicorn as _uvicorn
from .asgi_probe import ASGI2, ASGI3, asgi_interface, call_app, probe_async
from .identity import caller_file
from .util import describe, log

# Seconds, after an import inside a running loop, within which a server that runs lifespan
# has called it (Uvicorn does so a few milliseconds after importing the application).
LIFESPAN_GRACE = 1.0
CLOSE_HEADER = (b"connection", b"close")


def _add_close_header(message):
    headers = list(message.get("headers") or [])
    for name, _ in headers:
        if bytes(name).lower() == b"connection":
            return message
    return dict(message, headers=headers + [CLOSE_HEADER])


class ReadinessApp(object):
    """ASGI 3 middleware around ``app`` that sends one readiness datagram per process.

    ``lifespan`` is the server's lifespan mode when the adapter knows it (``on`` makes an
    exception in the lifespan a failed boot rather than a sign that the app has no lifespan);
    ``stopping`` tells whether a graceful stop began (default: Uvicorn's server says so).
    """

    def __init__(self, app, group=None, ppid=None, extra=None, app_file=None, lifespan="auto",
                 interface=None, stopping=None):
        self.app = app
        self.interface = interface or asgi_interface(app, assume_asgi=True)
        self.report_args = {"group": group, "ppid": ppid, "extra": extra, "app_file": app_file}
        self.lifespan = lifespan
        self.stopping = stopping or _uvicorn.stopping
        self.triggered = False
        self.lifespan_seen = False
        self.state = None
        self._tasks = set()

    async def __call__(self, scope, receive, send):
        kind = scope.get("type")
        if kind == "lifespan":
            return await self._lifespan(scope, receive, send)
        if not self.triggered and not self.lifespan_seen:
            self.start_probe()  # the server runs no lifespan: this is the first sign of life
        if kind == "http":
            send = self._closing(send)
        return await call_app(self.app, self.interface, scope, receive, send)

    def _closing(self, send):
        async def closing_send(message):
            if message.get("type") == "http.response.start" and self._is_stopping():
                message = _add_close_header(message)
            await send(message)
        return closing_send

    def _is_stopping(self):
        try:
            return bool(self.stopping())
        except Exception:
            return False

    async def _lifespan(self, scope, receive, send):
        self.lifespan_seen = True
        self.state = scope.get("state")

        async def watching_send(message):
            await send(message)
            kind = message.get("type")
            if kind == "lifespan.startup.complete":
                self._drain_uvicorn()
                self.start_probe()
            elif kind == "lifespan.startup.failed":
                self.fail("error: lifespan startup failed: %s" % (message.get("message") or "no message"))
        try:
            result = await call_app(self.app, self.interface, scope, receive, watching_send)
        except Exception as error:
            if not self.triggered:
                if self.lifespan == "on":
                    self.fail("error: lifespan startup raised %s" % describe(error))
                else:  # lifespan "auto": the server goes on without it, and so does the probe
                    self.start_probe()
            raise
        self.start_probe()  # returned without startup.complete: servers go on serving
        return result

    def _drain_uvicorn(self):
        """Under Uvicorn, let SIGTERM drain keep-alive connections first (``uvicorn.drain_on_term``)."""
        if self.stopping is not _uvicorn.stopping:
            return
        try:
            stopping = _uvicorn.drain_on_term()
        except Exception as error:
            log("pid %s: keep-alive drain not installed: %s" % (os.getpid(), describe(error)))
            return
        if stopping is not None:
            self.stopping = stopping

    def start_probe(self):
        """Start the probe as a task of the running loop (once per process). Never raises."""
        if self.triggered:
            return
        self.triggered = True
        try:
            task = asyncio.get_running_loop().create_task(self._probe_and_report())
            self._tasks.add(task)  # the loop keeps only a weak reference to its tasks
            task.add_done_callback(self._tasks.discard)
        except Exception as error:
            log("pid %s: cannot start the ASGI probe: %s" % (os.getpid(), describe(error)))

    def start_probe_later(self, delay=LIFESPAN_GRACE):
        """After ``delay`` seconds, probe unless a lifespan call has come by then."""
        def check():
            if not self.lifespan_seen:
                self.start_probe()
        try:
            asyncio.get_running_loop().call_later(delay, check)
        except Exception as error:
            log("pid %s: cannot schedule the ASGI probe: %s" % (os.getpid(), describe(error)))

    async def _probe_and_report(self):
        try:
            ok, status = await probe_async(self.app, state=self.state, interface=self.interface)
        except asyncio.CancelledError:
            return  # the worker is stopping
        except Exception as error:
            ok, status = False, "error: " + describe(error)
        _notify.report(ok, status, app=self.app, **self.report_args)

    def fail(self, status):
        """Report READY=0 with ``status`` at once, instead of probing."""
        if not self.triggered:
            self.triggered = True
            _notify.report(False, status, app=self.app, **self.report_args)


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _caller_module(depth=2):
    try:
        name = sys._getframe(depth).f_globals.get("__name__")
    except Exception:
        return None
    return name if isinstance(name, str) and not name.startswith("__") else None


def notify_ready(app, group=None):
    """Wrap the ASGI ``app``: report readiness after lifespan startup (see the module docstring).

    Returns ``app`` itself, unwrapped, in the preflight (nothing is sent there) and when the
    hook cannot wrap it; never raises.
    """
    try:
        if _notify.SUPPRESSED or isinstance(app, ReadinessApp):
            return app
        spec = _uvicorn.app_spec()
        extra = {"APP": spec} if spec else None
        group = group or spec or _caller_module()
        wrapper = ReadinessApp(app, group=group, ppid=os.getppid(), extra=extra,
                               app_file=caller_file())
        if wrapper.interface == ASGI2:
            log("pid %s: %r is not an ASGI 3 application (no async __call__): it is called as"
                " ASGI 2" % (os.getpid(), app))
        if _running_loop() is not None:
            wrapper.start_probe_later()
        return wrapper
    except Exception as error:
        log("pid %s: cannot wrap the ASGI application: %s" % (os.getpid(), describe(error)))
        return app


__all__ = ["ASGI2", "ASGI3", "LIFESPAN_GRACE", "ReadinessApp", "notify_ready"]
