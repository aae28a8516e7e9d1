"""Probe the application in-process, then tell rolling-restart about it in one datagram.

The datagram format is specified in docs/protocol.md of the rolling-restart tree.
Everything here runs inside a freshly booted worker of a production server, so the
rule is: never raise into the server and never wait longer than the probe timeout.
``notify()`` is the only entry point the server adapters use; the other functions
are public so that tests and hand-written hooks can reuse them.
"""

import hashlib
import hmac
import io
import math
import os
import re
import socket
import sys
import threading
import time
from urllib.parse import unquote_to_bytes

DEFAULT_NOTIFY = ("127.0.0.1", 4012)
DEFAULT_STATUS_PATH = "/_status"
DEFAULT_PROBE_TIMEOUT = 10.0
MAX_DATAGRAM_BYTES = 2048
FIELD_ORDER = ("READY", "PID", "PPID", "GROUP", "STATUS", "RELEASE", "ROOT", "PRELOAD", "APP", "BOOT_MS")
USER_AGENT = "rolling-restart-probe"
LOG_PREFIX = "rolling-restart-hook: "

# Set by the preflight command: it loads the application in a throwaway interpreter,
# where a notify_ready() line at the end of a WSGI script must not send anything.
SUPPRESSED = False

_IMPORTED_AT = time.time()
_MAC_LINE_BYTES = len(b"\nMAC=") + 64
# STATUS keeps at least this many bytes while RELEASE is being shortened, so the
# status code (which the supervisor reads) survives truncation.
_STATUS_KEEP_BYTES = 32
_CONTROL = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_HOST_PORT = re.compile(r"^([^\s:\[\]/]+):(\d{1,5})$")
_IPV6_PORT = re.compile(r"^\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]:(\d{1,5})$")


def log(message):
    """Write one line to stderr; logging must never be the thing that fails."""
    try:
        sys.stderr.write(LOG_PREFIX + message + "\n")
        sys.stderr.flush()
    except Exception:
        pass


# ---------------------------------------------------------------------------
# configuration from the environment


def status_path(environ=None):
    """The path the probe requests: ROLLING_RESTART_STATUS_PATH, default /_status."""
    env = os.environ if environ is None else environ
    value = (env.get("ROLLING_RESTART_STATUS_PATH") or "").strip()
    if not value:
        return DEFAULT_STATUS_PATH
    if not value.startswith("/"):
        log("ROLLING_RESTART_STATUS_PATH=%r does not start with '/': using %r" % (value, "/" + value))
        value = "/" + value
    return value


def probe_timeout(environ=None):
    """Seconds the probe may take: ROLLING_RESTART_PROBE_TIMEOUT, default 10."""
    env = os.environ if environ is None else environ
    raw = env.get("ROLLING_RESTART_PROBE_TIMEOUT")
    if raw is None or not raw.strip():
        return DEFAULT_PROBE_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value > 0) or math.isinf(value):
        log("ROLLING_RESTART_PROBE_TIMEOUT=%r is not a positive number of seconds: using %g"
            % (raw, DEFAULT_PROBE_TIMEOUT))
        return DEFAULT_PROBE_TIMEOUT
    return value


def parse_notify(value):
    """``host:port`` or ``[v6addr]:port`` -> (host, port); ``off`` -> None.

    Unset or empty means the default 127.0.0.1:4012. Anything else that does not
    parse is reported on stderr and replaced by the default, so a typo still lets
    the worker boot (the supervisor then times out, which is visible).
    """
    if value is None:
        return DEFAULT_NOTIFY
    text = str(value).strip()
    if not text:
        return DEFAULT_NOTIFY
    if text.lower() == "off":
        return None
    match = _IPV6_PORT.match(text) or _HOST_PORT.match(text)
    if match:
        port = int(match.group(2))
        if 0 < port < 65536:
            return (match.group(1), port)
    log("ROLLING_RESTART_NOTIFY=%r is not host:port, [::1]:port or off: using %s"
        % (text, format_address(DEFAULT_NOTIFY)))
    return DEFAULT_NOTIFY


def format_address(address):
    if address is None:
        return "off"
    host, port = address
    if ":" in host:
        return "[%s]:%d" % (host, port)
    return "%s:%d" % (host, port)


def read_secret(environ=None):
    """The MAC key from ROLLING_RESTART_SECRET_FILE, or None.

    Trailing spaces, tabs, CR and LF are removed. A named file that cannot be read
    or is empty is reported and yields None: the datagram then goes out without a
    MAC and the supervisor rejects it as bad-mac, which is the visible failure.
    """
    env = os.environ if environ is None else environ
    path = env.get("ROLLING_RESTART_SECRET_FILE")
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            key = handle.read(1 << 20)
    except (OSError, IOError) as error:
        log("cannot read ROLLING_RESTART_SECRET_FILE %s (%s): sending without MAC, "
            "the supervisor will reject it" % (path, _describe(error)))
        return None
    key = key.rstrip(b" \t\r\n")
    if not key:
        log("ROLLING_RESTART_SECRET_FILE %s is empty: sending without MAC, "
            "the supervisor will reject it" % path)
        return None
    return key


# ---------------------------------------------------------------------------
# the in-process probe


def build_environ(path=None, host="localhost", port="80"):
    """A complete PEP 3333 environ for ``GET path`` (path may carry a query string)."""
    if path is None:
        path = status_path()
    raw_path, _, query = str(path).partition("?")
    path_info = unquote_to_bytes(raw_path).decode("latin-1")  # as servers do (PEP 3333)
    port = str(port)
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


def _describe(error):
    name = type(error).__name__
    try:
        message = str(error)
    except Exception:
        message = ""
    return "%s: %s" % (name, message) if message else name


def _is_2xx(status):
    code = status.split(" ", 1)[0]
    return len(code) == 3 and code.isdigit() and code.startswith("2")


def _run_app(app, environ):
    """Call a WSGI application the way a server does; returns (ok, status)."""
    state = {"status": None, "sent": False}

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
        return False, "error: the application did not call start_response()"
    status = status.strip()
    return _is_2xx(status), status


def _format_seconds(seconds):
    return "%g" % seconds


def probe(app, timeout=None, path=None):
    """GET the status path from ``app`` in-process; returns (ok, status).

    The call runs in a daemon thread; after ``timeout`` seconds (default
    ROLLING_RESTART_PROBE_TIMEOUT or 10) the thread is abandoned and the result
    is ``(False, "timeout after Ns")``. A non-2xx status gives ``(False, status)``,
    an exception ``(False, "error: ExcType: message")``.
    """
    if timeout is None:
        timeout = probe_timeout()
    environ = build_environ(path)
    box = {}

    def run():
        try:
            box["result"] = _run_app(app, environ)
        except BaseException as error:  # the app may even call sys.exit()
            box["result"] = (False, "error: " + _describe(error))

    try:
        thread = threading.Thread(target=run, name="rolling-restart-probe")
        thread.daemon = True
        thread.start()
    except Exception as error:
        return False, "error: cannot start the probe thread: " + _describe(error)
    thread.join(timeout)
    if thread.is_alive() or "result" not in box:
        return False, "timeout after %ss" % _format_seconds(timeout)
    return box["result"]


# ---------------------------------------------------------------------------
# the datagram


def _sanitize(value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif not isinstance(value, str):
        value = str(value)
    value = _CONTROL.sub(" ", value).strip()
    # Lone surrogates (undecodable file names) cannot be UTF-8 encoded: replace them.
    value = value.encode("utf-8", "replace").decode("utf-8")
    # The supervisor reads U+FFFD as a sign of invalid UTF-8 and drops the datagram,
    # so text that was decoded with errors="replace" must not carry it.
    return value.replace(u"\ufffd", "?")


def _truncate(value, max_bytes):
    if max_bytes <= 0:
        return ""
    return value.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")


def _render(values):
    return "\n".join(k + "=" + values[k] for k in FIELD_ORDER if k in values).encode("utf-8")


def build_datagram(fields, secret=None):
    """Render ``fields`` as the readiness datagram (bytes).

    Lines come in FIELD_ORDER, joined by ``\\n`` with no trailing newline; fields
    that are absent or None are left out and unknown keys are ignored. Control
    characters become spaces. STATUS and then RELEASE are shortened so the
    datagram fits in 2048 bytes. With ``secret`` (bytes or str), a last line
    ``MAC=<hex>`` carries HMAC-SHA256 of every byte before ``MAC=``.
    """
    values = {}
    for key in FIELD_ORDER:
        if fields.get(key) is not None:
            values[key] = _sanitize(fields[key])
    for key in ("READY", "PID"):
        if not values.get(key):
            raise ValueError("the datagram needs %s" % key)
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    budget = MAX_DATAGRAM_BYTES - (_MAC_LINE_BYTES if secret else 0)

    # Shorten STATUS (keeping its first 32 bytes, where the code is), then RELEASE.
    # Only a pathological ROOT or GROUP (paths of kilobytes) can still overflow:
    # those optional lines are then left out rather than sent wrong.
    for key, floor in (("STATUS", _STATUS_KEEP_BYTES), ("RELEASE", 0)):
        excess = len(_render(values)) - budget
        if excess <= 0:
            break
        if key in values:
            size = len(values[key].encode("utf-8"))
            values[key] = _truncate(values[key], max(floor, size - excess))
    if values.get("RELEASE") == "":
        del values["RELEASE"]
    for key in ("ROOT", "GROUP"):
        if len(_render(values)) <= budget:
            break
        values.pop(key, None)

    body = _render(values)
    if secret:
        body += b"\n"
        return body + b"MAC=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii")
    return body


def send_datagram(address, data, timeout=1.0):
    """Send ``data`` to (host, port) over UDP, choosing IPv4/IPv6 from the address."""
    host, port = address
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    family, _, _, _, sockaddr = infos[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.sendto(data, sockaddr)
    finally:
        sock.close()


# ---------------------------------------------------------------------------
# what the worker loaded


def _library_dirs():
    dirs = []
    try:
        import sysconfig
        for name in ("stdlib", "platstdlib"):
            path = sysconfig.get_paths().get(name)
            if path:
                dirs.append(os.path.join(os.path.realpath(path), ""))
    except Exception:
        pass
    return dirs


def _is_installed_library(path):
    """True for files of installed packages and the standard library."""
    parts = path.replace("\\", "/").split("/")
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    real = os.path.realpath(path)
    return any(real.startswith(d) for d in _library_dirs())


def module_file(app):
    """The file of the module that defines ``app`` (None for library objects)."""
    name = getattr(app, "__module__", None)
    module = sys.modules.get(name) if isinstance(name, str) else None
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or _is_installed_library(path):
        # e.g. a Flask instance reports flask.app: that is not where the code lives
        return None
    return path


def app_directory(app=None, app_file=None):
    """Where the application's code lives.

    The directory of ``app_file`` (or of the module defining ``app``); when that
    module sits inside a package, the directory holding the top-level package.
    Falls back to the working directory.
    """
    path = app_file or (module_file(app) if app is not None else None)
    if not path:
        return os.getcwd()
    directory = os.path.dirname(os.path.abspath(path))
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return directory


def read_release(directory, environ=None):
    """ROLLING_RESTART_RELEASE, else the first line of ``directory``/REVISION, else None."""
    env = os.environ if environ is None else environ
    value = (env.get("ROLLING_RESTART_RELEASE") or "").strip()
    if value:
        return value
    try:
        with open(os.path.join(directory, "REVISION"), "rb") as handle:
            first = handle.readline(4096).decode("utf-8", "replace").strip()
    except (OSError, IOError):
        return None
    return first or None


def _seconds_since_boot():
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    if clock is not None:
        try:
            return time.clock_gettime(clock)
        except OSError:
            pass
    with open("/proc/uptime", "rb") as handle:
        return float(handle.read().split()[0])


def process_age_ms():
    """Milliseconds since this process started.

    Linux: /proc/self/stat field 22 (start time in clock ticks after boot) against
    the time since boot. Using CLOCK_BOOTTIME (or /proc/uptime) rather than btime
    from /proc/stat keeps sub-second precision, as btime is whole seconds.
    Elsewhere: time since this module was imported.
    """
    try:
        with open("/proc/self/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
        # the command name (field 2) may contain spaces and ')': cut after the last ')'
        after_comm = stat[stat.rindex(")") + 2:].split()
        start_ticks = int(after_comm[19])  # field 22; after_comm[0] is field 3
        age = _seconds_since_boot() - start_ticks / float(os.sysconf("SC_CLK_TCK"))
        if age >= 0:
            return int(age * 1000)
    except Exception:
        pass
    return max(0, int((time.time() - _IMPORTED_AT) * 1000))


def _safely(what, function, *args):
    try:
        return function(*args)
    except Exception as error:
        log("cannot determine %s: %s" % (what, _describe(error)))
        return None


# ---------------------------------------------------------------------------
# the entry point


def caller_file(depth=2):
    """The ``__file__`` of the code that called our caller (the WSGI script ending in
    ``notify_ready(application)``), or None."""
    try:
        path = sys._getframe(depth).f_globals.get("__file__")
    except Exception:
        return None
    return path if isinstance(path, str) else None


def collect(app, group=None, ppid=None, app_file=None, timeout=None, extra=None):
    """Probe ``app`` and return the datagram fields (no sending).

    ``extra`` adds server-specific fields (the Gunicorn hook sends PRELOAD=1).
    """
    ok, status = probe(app, timeout)
    env_group = (os.environ.get("ROLLING_RESTART_GROUP") or "").strip()
    directory = _safely("the application directory", app_directory, app, app_file)
    fields = {
        "READY": "1" if ok else "0",
        "PID": str(os.getpid()),
        "PPID": str(ppid) if ppid is not None else None,
        "GROUP": env_group or group or None,
        "STATUS": status,
        "RELEASE": _safely("the release", read_release, directory) if directory else None,
        "ROOT": _safely("the code root", os.path.realpath, directory) if directory else None,
        "BOOT_MS": str(process_age_ms()),
    }
    for key, value in (extra or {}).items():
        if key in FIELD_ORDER and key not in fields:
            fields[key] = value
    return dict((k, v) for k, v in fields.items() if v is not None)


def notify(app, group=None, ppid=None, app_file=None, extra=None):
    """Probe ``app`` in-process and send one readiness datagram.

    ``group`` and ``ppid`` come from the server adapter (ROLLING_RESTART_GROUP
    overrides ``group``); ``app_file`` names the file whose directory holds the
    code when the adapter knows it better than ``app.__module__`` does.
    Returns the fields (also when ROLLING_RESTART_NOTIFY=off), or None when
    nothing could be sent. Never raises, except SystemExit / KeyboardInterrupt
    delivered by the server's own signal handlers while the probe runs.
    """
    try:
        if SUPPRESSED:
            return None
        fields = collect(app, group, ppid, app_file, extra=extra)
        summary = "pid %s READY=%s %s" % (
            fields["PID"], fields["READY"], _sanitize(fields.get("STATUS", "")))
        address = parse_notify(os.environ.get("ROLLING_RESTART_NOTIFY"))
        if address is None:
            log(summary + " -> off (ROLLING_RESTART_NOTIFY=off, not sent)")
            return fields
        data = build_datagram(fields, read_secret())
        try:
            send_datagram(address, data)
        except Exception as error:
            log("%s -> %s: send failed: %s" % (summary, format_address(address), _describe(error)))
            return None
        log("%s -> %s" % (summary, format_address(address)))
        return fields
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        log("pid %s: readiness hook failed: %s" % (os.getpid(), _describe(error)))
        return None
