"""Small helpers every module of the hook shares: one stderr log line, error text, seconds.

Nothing here may raise: these run while a server is booting a worker.
"""

import sys

LOG_PREFIX = "rolling-restart-hook: "


def log(message):
    """Write one line to stderr; logging must never be the thing that fails."""
    try:
        sys.stderr.write(LOG_PREFIX + message + "\n")
        sys.stderr.flush()
    except Exception:
        pass


def describe(error):
    """``ExcType: message`` (or just ``ExcType``), even when ``str(error)`` itself fails."""
    name = type(error).__name__
    try:
        message = str(error)
    except Exception:
        message = ""
    return "%s: %s" % (name, message) if message else name


def format_seconds(seconds):
    """Seconds as the shortest readable number: 10, 0.5, 2.25."""
    return "%g" % seconds
