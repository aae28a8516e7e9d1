"""Readiness hooks for rolling-restart.

A worker process that has just loaded the application calls its status page
in-process and reports the outcome to the rolling-restart supervisor in one UDP
datagram (see docs/protocol.md in the rolling-restart tree). The server-specific
entry points live in ``gunicorn`` (WSGI and ASGI workers), ``mod_wsgi``, ``uwsgi`` and
``asgi`` (any ASGI server, such as Uvicorn's ``--workers``); ``preflight`` loads
and probes an application in a throwaway interpreter; ``modes`` is a small
maintenance / read-only middleware.

Standard library only, Python 3.8 or later.
"""

import os

from .version import VERSION

# from rolling-restart's package.json or the build, never written by hand (version.py)
__version__ = VERSION or "unknown"


def hook_dir():
    """The directory to put on PYTHONPATH so ``import rolling_restart_hook`` works."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
