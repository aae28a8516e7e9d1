"""The hook's settings, read from ROLLING_RESTART_* environment variables.

A value that does not parse is reported on stderr and replaced by its default, so a
typo still lets the worker boot (the supervisor then times out, which is visible).
"""

import math
import os
import re

from .util import describe, log

DEFAULT_NOTIFY = ("127.0.0.1", 4012)
DEFAULT_STATUS_PATH = "/_status"
DEFAULT_PROBE_TIMEOUT = 10.0
DEFAULT_STATUS_HOST = "localhost"

_HOST_PORT = re.compile(r"^([^\s:\[\]/]+):(\d{1,5})$")
_IPV6_PORT = re.compile(r"^\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]:(\d{1,5})$")
# A Host header value: a name or IPv4 address, or [IPv6], with an optional :port.
_HOST_HEADER = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$")


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


def status_host(environ=None):
    """The Host header the probe sends: ROLLING_RESTART_STATUS_HOST, default localhost.

    It may carry a port (``example.com:8000``). Frameworks that check the Host header
    (Django's ALLOWED_HOSTS) answer 400 to a host they do not serve.
    """
    env = os.environ if environ is None else environ
    value = (env.get("ROLLING_RESTART_STATUS_HOST") or "").strip()
    if not value:
        return DEFAULT_STATUS_HOST
    if not _HOST_HEADER.match(value):
        log("ROLLING_RESTART_STATUS_HOST=%r is not a host name with an optional :port: using %r"
            % (value, DEFAULT_STATUS_HOST))
        return DEFAULT_STATUS_HOST
    return value


def split_host(host):
    """``example.com:8000`` -> (``example.com``, ``8000``); without a port the second is None."""
    match = _HOST_HEADER.match(host)
    if not match:
        return host, None
    return match.group(1), match.group(2)


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


def group_override(environ=None):
    """ROLLING_RESTART_GROUP, which wins over the group the server adapter names; or None."""
    env = os.environ if environ is None else environ
    return (env.get("ROLLING_RESTART_GROUP") or "").strip() or None


def notify_address(environ=None):
    """Where the datagram goes: ROLLING_RESTART_NOTIFY through ``parse_notify``."""
    env = os.environ if environ is None else environ
    return parse_notify(env.get("ROLLING_RESTART_NOTIFY"))


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
            "the supervisor will reject it" % (path, describe(error)))
        return None
    key = key.rstrip(b" \t\r\n")
    if not key:
        log("ROLLING_RESTART_SECRET_FILE %s is empty: sending without MAC, "
            "the supervisor will reject it" % path)
        return None
    return key
