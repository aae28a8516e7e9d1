"""The in-process probe for ASGI applications: one ``GET`` of the status path through the ASGI
interface (an ``http`` scope, ``receive``, ``send``), run as a task of the event loop it is
awaited in, so the server's loop keeps serving while the probe runs.

After the probe timeout the request task is cancelled, so no task of the probe outlives it
(an application that swallows the cancellation is left to the loop, as a server would).
"""

import asyncio
import inspect
from http import HTTPStatus
from urllib.parse import unquote

from .config import probe_timeout, split_host, status_host, status_path
from .hints import explain
from .probe import USER_AGENT
from .util import describe, format_seconds

ASGI3 = "asgi3"
ASGI2 = "asgi2"


def is_coroutine_function(obj):
    if inspect.iscoroutinefunction(obj):
        return True
    # asgiref's markcoroutinefunction (Python < 3.12) marks wrappers this way
    if getattr(obj, "_is_coroutine", None) is not None:
        return asyncio.iscoroutinefunction(obj)
    return False


def asgi_interface(app, assume_asgi=False):
    """``asgi3`` when ``app`` (or its ``__call__``) is a coroutine function.

    Otherwise None (a WSGI application), or with ``assume_asgi`` (the server only runs ASGI)
    Uvicorn's own guess for ``interface=auto``: a class without ``__await__`` and any other
    callable are ASGI 2 (``app(scope)`` returns the coroutine function).
    """
    if is_coroutine_function(app) or is_coroutine_function(getattr(app, "__call__", None)):
        return ASGI3
    if inspect.isclass(app) and hasattr(app, "__await__"):
        return ASGI3
    return ASGI2 if assume_asgi else None


async def call_app(app, interface, scope, receive, send):
    """Call ``app`` as the ASGI version ``interface`` says."""
    if interface == ASGI2:
        instance = app(scope)
        return await instance(receive, send)
    return await app(scope, receive, send)


class AppExit(Exception):
    """The application raised SystemExit during the probe; kept inside the probe's task,
    because an asyncio task re-raises SystemExit into the event loop, which would stop the
    server's loop."""


async def _contained(app, interface, scope, receive, send):
    try:
        return await call_app(app, interface, scope, receive, send)
    except SystemExit as error:
        raise AppExit(describe(error))


def build_scope(path=None, host=None, state=None):
    """An ASGI ``http`` scope for ``GET path`` (path may carry a query string) with Host ``host``
    (default ROLLING_RESTART_STATUS_HOST, then ``localhost``).

    ``state`` is the lifespan state the server shares with requests; the scope gets a copy, as
    servers give each request.
    """
    if path is None:
        path = status_path()
    if host is None:
        host = status_host()
    raw_path, _, query = str(path).partition("?")
    name, port = split_host(host)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("utf-8"),
        "query_string": query.encode("utf-8"),
        "root_path": "",
        "headers": [(b"host", host.encode("ascii")),
                    (b"user-agent", USER_AGENT.encode("ascii")), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 0),
        "server": (name.strip("[]"), int(port) if port else 80),
        "rolling_restart.probe": True,
    }
    if state is not None:
        scope["state"] = dict(state)
    return scope


def status_line(code):
    try:
        return "%d %s" % (code, HTTPStatus(code).phrase)
    except ValueError:
        return str(code)


class _Exchange(object):
    """``receive`` and ``send`` for one request with an empty body."""

    def __init__(self):
        self.code = None
        self.headers = []
        self.complete = asyncio.Event()
        self._body_sent = False

    async def receive(self):
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.complete.wait()  # the client stays until the response is complete
        return {"type": "http.disconnect"}

    async def send(self, message):
        kind = message.get("type")
        if kind == "http.response.start":
            if self.code is not None:
                raise RuntimeError("http.response.start sent twice")
            self.code = int(message["status"])
            self.headers = list(message.get("headers") or [])
        elif kind == "http.response.body":
            if self.code is None:
                raise RuntimeError("http.response.body sent before http.response.start")
            if not message.get("more_body", False):
                self.complete.set()


def _outcome(exchange, path, host):
    status = status_line(exchange.code)
    ok = 200 <= exchange.code < 300
    return ok, status if ok else explain(status, path, host, exchange.headers)


async def probe_async(app, timeout=None, path=None, host=None, state=None, interface=ASGI3):
    """GET the status path from the ASGI ``app``; returns (ok, status) like ``probe.probe``.

    Must be awaited inside a running event loop. Never raises (except the cancellation of
    the task awaiting it, which is passed on after the request task was cancelled too).
    """
    try:
        if timeout is None:
            timeout = probe_timeout()
        scope = build_scope(path, host, state)
        path = str(path if path is not None else status_path())
        host = dict(scope["headers"])[b"host"].decode("ascii")
        exchange = _Exchange()
        task = asyncio.ensure_future(_contained(app, interface, scope, exchange.receive, exchange.send))
    except Exception as error:
        return False, "error: " + describe(error)
    try:
        await asyncio.wait([task], timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not task.done():
        task.cancel()
        if exchange.complete.is_set():  # answered; only work after the response is still running
            return _outcome(exchange, path, host)
        return False, "timeout after %ss" % format_seconds(timeout)
    if task.cancelled():
        return False, "error: the request was cancelled"
    error = task.exception()
    if isinstance(error, AppExit):
        return False, "error: " + str(error)
    if error is not None:
        return False, "error: " + describe(error)
    if exchange.code is None:
        return False, "error: the application returned without sending http.response.start"
    return _outcome(exchange, path, host)
