"""Maintenance and read-only modes switched by a file, without restarting anything.

    from rolling_restart_hook.modes import ModeMiddleware
    application = ModeMiddleware(application, "/srv/app/shared/MODE")

The first word of the mode file selects the mode:

* ``normal`` (also: no file, an empty file): every request goes to the application;
* ``maintenance``: every request gets ``503 Service Unavailable``, a short HTML
  page and ``Retry-After``;
* ``read-only``: GET, HEAD and OPTIONS go through; POST, PUT, PATCH, DELETE (and
  any other method) get ``503`` with a short text message and ``Retry-After``.

An optional later line ``retry-after=120`` sets the Retry-After seconds (default
60). The status path (``ROLLING_RESTART_STATUS_PATH``, default ``/_status``)
always reaches the application, so readiness probes keep working in every mode.

The file is stat()ed on each request and re-read only when its mtime, size or
inode changed. An unknown word means ``normal`` with one warning on stderr; a file that
exists but cannot be read keeps the last mode that could be read, with one warning.
"""

import os

from .config import status_path as configured_status_path
from .util import describe, log

NORMAL = "normal"
MAINTENANCE = "maintenance"
READ_ONLY = "read-only"
MODES = (NORMAL, MAINTENANCE, READ_ONLY)
DEFAULT_RETRY_AFTER = 60
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

_MAINTENANCE_PAGE = (
    b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Down for maintenance</title>"
    b"</head>\n<body><h1>Down for maintenance</h1>\n"
    b"<p>This site is being updated. Please try again in a few minutes.</p></body></html>\n"
)
_READ_ONLY_TEXT = b"This site is read-only for a few minutes while it is being updated; please retry.\n"


def parse_mode(text):
    """Mode file content -> (mode, retry_after, unknown_word_or_None)."""
    words = text.split()
    word = words[0].lower() if words else NORMAL
    retry_after = DEFAULT_RETRY_AFTER
    for line in text.splitlines()[1:]:
        key, sep, value = line.strip().partition("=")
        if sep and key.strip().lower() == "retry-after":
            try:
                seconds = int(value.strip())
            except ValueError:
                continue
            if seconds >= 0:
                retry_after = seconds
    if word not in MODES:
        return NORMAL, retry_after, word
    return word, retry_after, None


class ModeMiddleware(object):
    """WSGI middleware answering 503 in maintenance and, for writes, in read-only mode."""

    def __init__(self, app, mode_file=None, status_path=None):
        self.app = app
        self.mode_file = mode_file or os.environ.get("ROLLING_RESTART_MODE_FILE") or None
        self.status_path = (status_path or configured_status_path()).partition("?")[0]
        # (signature of the file that was read, (mode, retry_after)); one attribute,
        # replaced whole, so threads never see a signature paired with another state.
        self._cache = (None, (NORMAL, DEFAULT_RETRY_AFTER))
        self._warned_unreadable = False

    def current_mode(self):
        """(mode, retry_after), re-reading the file only when it changed."""
        if not self.mode_file:
            return NORMAL, DEFAULT_RETRY_AFTER
        try:
            info = os.stat(self.mode_file)
        except OSError:
            # No file (or a directory we cannot search): normal.
            self._cache = (None, (NORMAL, DEFAULT_RETRY_AFTER))
            return self._cache[1]
        signature = (info.st_mtime_ns, info.st_size, info.st_ino)
        cached_signature, state = self._cache
        if signature == cached_signature:
            return state
        try:
            with open(self.mode_file, "rb") as handle:
                text = handle.read(4096).decode("utf-8", "replace")
        except (OSError, IOError) as error:
            if not self._warned_unreadable:
                self._warned_unreadable = True
                log("cannot read mode file %s (%s): keeping mode %s"
                    % (self.mode_file, describe(error), state[0]))
            return state
        self._warned_unreadable = False
        mode, retry_after, unknown = parse_mode(text)
        if unknown is not None:
            log("mode file %s says %r, which is none of %s: treating it as normal"
                % (self.mode_file, unknown, ", ".join(MODES)))
        self._cache = (signature, (mode, retry_after))
        return mode, retry_after

    def _is_status_request(self, environ):
        path_info = environ.get("PATH_INFO", "")
        return path_info == self.status_path or \
            environ.get("SCRIPT_NAME", "") + path_info == self.status_path

    def __call__(self, environ, start_response):
        if self._is_status_request(environ):
            return self.app(environ, start_response)
        mode, retry_after = self.current_mode()
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if mode == MAINTENANCE:
            return self._refuse(start_response, method, retry_after, "text/html; charset=utf-8", _MAINTENANCE_PAGE)
        if mode == READ_ONLY and method not in SAFE_METHODS:
            return self._refuse(start_response, method, retry_after, "text/plain; charset=utf-8", _READ_ONLY_TEXT)
        return self.app(environ, start_response)

    @staticmethod
    def _refuse(start_response, method, retry_after, content_type, body):
        start_response("503 Service Unavailable", [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(retry_after)),
            ("Cache-Control", "no-store"),
        ])
        # A HEAD answer has the headers of the GET answer and no body. Some servers send whatever
        # the application returns (Gunicorn 20.1 does), which would corrupt a kept-alive connection.
        return [] if method == "HEAD" else [body]
