"""Probe the application in-process, then tell rolling-restart about it in one datagram.

Everything here runs inside a freshly booted worker of a production server, so the
rule is: never raise into the server and never wait longer than the probe timeout.
``notify()`` is the only entry point the server adapters use. The pieces live in
``config`` (ROLLING_RESTART_* settings), ``probe`` (the in-process request),
``datagram`` (build, sign, send) and ``identity`` (what the worker loaded); their
public names are re-exported here, so ``from rolling_restart_hook.notify import X``
keeps working for tests and hand-written hooks.
"""

import os

from .config import (DEFAULT_NOTIFY, DEFAULT_PROBE_TIMEOUT, DEFAULT_STATUS_PATH, format_address,
                     group_override, notify_address, parse_notify, probe_timeout, read_secret,
                     status_host, status_path)
from .datagram import FIELD_ORDER, MAX_DATAGRAM_BYTES, build_datagram, sanitize, send_datagram
from . import loaded_record
from .identity import (app_directory, caller_file, is_installed_library, module_file,
                       process_age_ms, read_release)
from .probe import USER_AGENT, build_environ, probe
from .util import LOG_PREFIX, describe, format_seconds, log
from .version import VERSION

__all__ = [
    "DEFAULT_NOTIFY", "DEFAULT_PROBE_TIMEOUT", "DEFAULT_STATUS_PATH", "FIELD_ORDER", "LOG_PREFIX",
    "MAX_DATAGRAM_BYTES", "SUPPRESSED", "USER_AGENT", "app_directory", "build_datagram",
    "build_environ", "caller_file", "collect", "describe", "fields_for", "format_address", "format_seconds",
    "group_override", "is_installed_library", "log", "module_file", "notify", "notify_address",
    "parse_notify", "probe", "probe_timeout", "process_age_ms", "read_release", "read_secret",
    "report", "sanitize", "send_datagram", "send_fields", "status_host", "status_path",
]

# Set by the preflight command: it loads the application in a throwaway interpreter,
# where a notify_ready() line at the end of a WSGI script must not send anything.
SUPPRESSED = False


def _safely(what, function, *args):
    try:
        return function(*args)
    except Exception as error:
        log("cannot determine %s: %s" % (what, describe(error)))
        return None


def collect(app, group=None, ppid=None, app_file=None, timeout=None, extra=None):
    """Probe ``app`` and return the datagram fields (no sending).

    ``extra`` adds server-specific fields (the Gunicorn hook sends PRELOAD=1).
    """
    ok, status = probe(app, timeout)
    return fields_for(ok, status, app, group, ppid, app_file, extra)


def fields_for(ok, status, app=None, group=None, ppid=None, app_file=None, extra=None):
    """The datagram fields for a probe outcome that is already known (the ASGI probe runs in
    the server's event loop, so it cannot go through ``collect``)."""
    directory = _safely("the application directory", app_directory, app, app_file)
    fields = {
        "READY": "1" if ok else "0",
        "PID": str(os.getpid()),
        "PPID": str(ppid) if ppid is not None else None,
        "GROUP": group_override() or group or None,
        "STATUS": status,
        "RELEASE": _safely("the release", read_release, directory) if directory else None,
        "ROOT": _safely("the code root", os.path.realpath, directory) if directory else None,
        "BOOT_MS": str(process_age_ms()),
        "HOOK": VERSION,
    }
    for key, value in (extra or {}).items():
        if key in FIELD_ORDER and key not in fields:
            fields[key] = value
    return dict((k, v) for k, v in fields.items() if v is not None)


def send_fields(fields):
    """Send ``fields`` as the datagram and log one line; returns them, or None if the send failed.

    A worker whose probe passed then records what it loaded (``loaded_record``), after the
    datagram so that its readiness is not delayed.
    """
    try:
        return _send(fields)
    finally:
        if fields.get("READY") == "1":
            loaded_record.record()


def _send(fields):
    summary = "pid %s READY=%s %s" % (fields["PID"], fields["READY"], sanitize(fields.get("STATUS", "")))
    address = notify_address()
    if address is None:
        log(summary + " -> off (ROLLING_RESTART_NOTIFY=off, not sent)")
        return fields
    data = build_datagram(fields, read_secret())
    try:
        send_datagram(address, data)
    except Exception as error:
        log("%s -> %s: send failed: %s" % (summary, format_address(address), describe(error)))
        return None
    log("%s -> %s" % (summary, format_address(address)))
    return fields


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
        return send_fields(collect(app, group, ppid, app_file, extra=extra))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        log("pid %s: readiness hook failed: %s" % (os.getpid(), describe(error)))
        return None


def report(ok, status, app=None, group=None, ppid=None, app_file=None, extra=None):
    """Send the datagram for a probe outcome that is already known. Never raises."""
    try:
        if SUPPRESSED:
            return None
        return send_fields(fields_for(ok, status, app, group, ppid, app_file, extra))
    except Exception as error:
        log("pid %s: readiness hook failed: %s" % (os.getpid(), describe(error)))
        return None
