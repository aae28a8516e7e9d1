"""What the hook reads from Uvicorn without importing it: the app spec its supervisor was started
with, and whether its server began a graceful stop.

Uvicorn's ``--workers N`` supervisor starts each worker with multiprocessing's *spawn*, so a
worker's own command line is ``python -c 'from multiprocessing.spawn import spawn_main; ...'``
and only the supervisor's (the worker's parent) names the application:
``uvicorn main:app --workers 3``. Without ``--workers`` the server is the process itself.
"""

import asyncio
import os
import re
import signal
import time

# Longest drain after SIGTERM: Uvicorn's keep-alive timeout plus this.
DRAIN_MARGIN = 5.0
_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
# options of the uvicorn command whose value can look like module:name
_VALUE_OPTIONS = ("--header",)


def read_argv(pid):
    """The command line of ``pid`` as a list (Linux /proc), or [] when it cannot be read."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            raw = handle.read(65536)
    except (OSError, IOError, ValueError):
        return []
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def is_uvicorn_command(argv):
    """``.../bin/uvicorn ...`` or ``python -m uvicorn ...``."""
    head = argv[:4]
    for index, arg in enumerate(head):
        if os.path.basename(arg) == "uvicorn" or (arg == "-m" and head[index + 1:index + 2] == ["uvicorn"]):
            return True
    return False


def spec_from_argv(argv):
    """``module:name`` given to a uvicorn command, with ``()`` appended under ``--factory``
    (the call form the preflight understands); None for any other command."""
    if not is_uvicorn_command(argv):
        return None
    spec, skip = None, False
    for arg in argv[1:]:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-") and _SPEC.match(arg) and spec is None:
            spec = arg
    if spec and "--factory" in argv:
        spec += "()"
    return spec


def app_spec():
    """The app spec of the Uvicorn supervisor that is this process's parent, or of this process
    when it is the server itself; None otherwise (e.g. ``uvicorn.run()`` from a script)."""
    for pid in (os.getppid(), os.getpid()):
        spec = spec_from_argv(read_argv(pid))
        if spec:
            return spec
    return None


def stopping():
    """True once a Uvicorn server in this process began a graceful stop.

    ``Server.capture_signals`` installs its bound ``handle_exit`` with ``signal.signal`` for
    SIGTERM and SIGINT, and that sets ``should_exit``; so the handler leads to the server.
    """
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return getattr(server, "should_exit", False) is True


def _uvicorn_server():
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    # (``servers`` only exists once the server listens, after lifespan startup)
    if all(hasattr(server, name) for name in ("should_exit", "server_state", "config")):
        return server
    return None


def drain_on_term():
    """Make SIGTERM drain this process's Uvicorn server before it stops; returns the function
    that tells whether a graceful stop began, or None when no Uvicorn server was found.

    Uvicorn's shutdown closes idle keep-alive connections at once, under clients about to
    reuse them. The draining handler instead stops accepting, lets every open connection
    be served (the wrapper now answers ``Connection: close``) or end at the keep-alive
    timeout, and then calls Uvicorn's own handler. Call it inside the running loop, after
    ``Server.capture_signals`` installed that handler (lifespan startup is).
    """
    server = _uvicorn_server()
    if server is None:
        return None
    original = signal.getsignal(signal.SIGTERM)
    loop = asyncio.get_running_loop()
    keepalive = float(getattr(server.config, "timeout_keep_alive", 5) or 0)
    state = {"draining": False, "deadline": 0.0}

    def finish():
        if server.should_exit:
            return
        if server.server_state.connections and time.monotonic() < state["deadline"]:
            loop.call_later(0.1, finish)
            return
        original(signal.SIGTERM, None)

    def begin():
        for listener in list(getattr(server, "servers", None) or ()):
            listener.close()  # stop accepting; the other workers share the socket
        finish()

    def on_term(sig, frame):
        if server.should_exit:
            return original(sig, frame)
        if state["draining"]:
            return None  # a repeated TERM (Gunicorn's, on TTOU) keeps draining; SIGINT stops at once
        state["draining"] = True
        state["deadline"] = time.monotonic() + keepalive + DRAIN_MARGIN
        loop.call_soon_threadsafe(begin)

    signal.signal(signal.SIGTERM, on_term)
    return lambda: state["draining"] or server.should_exit is True
