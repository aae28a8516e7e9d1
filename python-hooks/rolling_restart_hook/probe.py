"""The in-process probe: GET the status path from the freshly loaded WSGI application.

The request runs in a daemon thread that is abandoned after the probe timeout, so a
hanging application can never hold the server's worker longer than that.
"""

import io
import sys
import threading
from urllib.parse import unquote_to_bytes

from .config import probe_timeout, split_host, status_host, status_path
from .hints import explain
from .util import describe, format_seconds

USER_AGENT = "rolling-restart-probe"


def build_environ(path=None, host=None, port=None):
    """A complete PEP 3333 environ for ``GET path`` (path may carry a query string).

    ``host`` defaults to ROLLING_RESTART_STATUS_HOST (``localhost``) and may carry a port.
    """
    if path is None:
        path = status_path()
    if host is None:
        host = status_host()
    raw_path, _, query = str(path).partition("?")
    path_info = unquote_to_bytes(raw_path).decode("latin-1")  # as servers do (PEP 3333)
    name, host_port = split_host(host)
    if host_port is not None:
        http_host, host, port = "%s:%s" % (name, host_port), name, host_port
    else:
        port = "80" if port is None else str(port)
        http_host = host if port in ("80", "") else "%s:%s" % (host, port)
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "REQUEST_URI": str(path),
        "RAW_URI": str(path),
        "CONTENT_TYPE": "",
        "CONTENT_LENGTH": "",
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "HTTP_HOST": http_host,
        "HTTP_USER_AGENT": USER_AGENT,
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "rolling_restart.probe": True,
    }


def _is_2xx(status):
    code = status.split(" ", 1)[0]
    return len(code) == 3 and code.isdigit() and code.startswith("2")


def _run_app(app, environ):
    """Call a WSGI application the way a server does; returns (ok, status, headers)."""
    state = {"status": None, "sent": False, "headers": []}

    def write(data):
        if state["status"] is None:
            raise AssertionError("write() called before start_response()")
        if data:
            state["sent"] = True

    def start_response(status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if state["sent"]:
                    # PEP 3333: headers already went out, so re-raise the app's error.
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif state["status"] is not None:
            raise AssertionError("start_response() called a second time without exc_info")
        if not isinstance(status, str):
            raise TypeError("status must be a str, got %s" % type(status).__name__)
        state["status"] = status
        state["headers"] = headers
        return write

    result = app(environ, start_response)
    try:
        for chunk in result:
            if chunk:
                # Headers count as sent once the first non-empty chunk is yielded.
                state["sent"] = True
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status = state["status"]
    if status is None:
        return False, "error: the application did not call start_response()", []
    status = status.strip()
    return _is_2xx(status), status, state["headers"]


def probe(app, timeout=None, path=None):
    """GET the status path from ``app`` in-process; returns (ok, status).

    The call runs in a daemon thread; after ``timeout`` seconds (default
    ROLLING_RESTART_PROBE_TIMEOUT or 10) the thread is abandoned and the result
    is ``(False, "timeout after Ns")``. A non-2xx status gives ``(False, status)``,
    where a 400, 404 or redirect also names the URL probed and the setting to change
    (``hints.explain``); an exception gives ``(False, "error: ExcType: message")``.
    """
    if timeout is None:
        timeout = probe_timeout()
    environ = build_environ(path)
    box = {}

    def run():
        try:
            ok, status, headers = _run_app(app, environ)
            if not ok:
                status = explain(status, environ["RAW_URI"], environ["HTTP_HOST"], headers)
            box["result"] = (ok, status)
        except BaseException as error:  # the app may even call sys.exit()
            box["result"] = (False, "error: " + describe(error))

    try:
        thread = threading.Thread(target=run, name="rolling-restart-probe")
        thread.daemon = True
        thread.start()
    except Exception as error:
        return False, "error: cannot start the probe thread: " + describe(error)
    thread.join(timeout)
    if thread.is_alive() or "result" not in box:
        return False, "timeout after %ss" % format_seconds(timeout)
    return box["result"]
