"""The preflight of an ASGI application, in an event loop of its own, as a server would run it:
lifespan startup, then the status probe (with the lifespan state), then lifespan shutdown.

An application that raises on the lifespan scope has no lifespan (Django's ASGIHandler); it is
probed without, as servers in lifespan ``auto`` mode serve it. ``lifespan.startup.failed`` is
a failed preflight.
"""

import asyncio

from .asgi_probe import asgi_interface, call_app, probe_async
from .config import probe_timeout
from .util import describe, format_seconds, log

# Gunicorn's -k asgi worker gives lifespan startup 30 s as well.
DEFAULT_STARTUP_TIMEOUT = 30.0


class _Lifespan(object):
    def __init__(self, app, interface):
        self.app = app
        self.interface = interface
        self.state = {}
        self.inbox = asyncio.Queue()
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.failure = None
        self.unsupported = None

    async def run(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                 "state": self.state}
        try:
            await call_app(self.app, self.interface, scope, self.inbox.get, self.send)
        except Exception as error:
            if not self.started.is_set():
                self.unsupported = describe(error)
            else:
                log("lifespan shutdown raised %s" % describe(error))
        finally:
            self.started.set()
            self.stopped.set()

    async def send(self, message):
        kind = message.get("type")
        if kind == "lifespan.startup.complete":
            self.started.set()
        elif kind == "lifespan.startup.failed":
            self.failure = message.get("message") or "no message"
            self.started.set()
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            self.stopped.set()


async def _wait(event, seconds):
    try:
        await asyncio.wait_for(event.wait(), seconds)
        return True
    except asyncio.TimeoutError:
        return False


async def preflight_async(app, timeout=None, startup_timeout=None):
    """(ok, status) for the ASGI ``app``: lifespan startup, probe, lifespan shutdown."""
    timeout = probe_timeout() if timeout is None else timeout
    startup_timeout = startup_timeout or DEFAULT_STARTUP_TIMEOUT
    interface = asgi_interface(app, assume_asgi=True)
    lifespan = _Lifespan(app, interface)
    lifespan.inbox.put_nowait({"type": "lifespan.startup"})
    task = asyncio.ensure_future(lifespan.run())
    if not await _wait(lifespan.started, startup_timeout):
        task.cancel()
        return False, "error: lifespan startup did not complete within %ss" % format_seconds(startup_timeout)
    if lifespan.failure is not None:
        return False, "error: lifespan startup failed: %s" % lifespan.failure
    if lifespan.unsupported is not None:
        log("the application has no lifespan (%s): probing without it" % lifespan.unsupported)
    state = None if lifespan.unsupported is not None else lifespan.state
    result = await probe_async(app, timeout, state=state, interface=interface)
    if not task.done():
        lifespan.inbox.put_nowait({"type": "lifespan.shutdown"})
        if not await _wait(lifespan.stopped, timeout):
            log("lifespan shutdown did not complete within %ss" % format_seconds(timeout))
        task.cancel()
    return result


def preflight(app, timeout=None, startup_timeout=None):
    """Run ``preflight_async`` in a new event loop; returns (ok, status).

    The loop is not closed and its leftover tasks are not awaited: an application that ignores
    cancellation must not keep the preflight from giving its verdict (the command then exits).
    """
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(preflight_async(app, timeout, startup_timeout))
    except Exception as error:
        return False, "error: " + describe(error)
