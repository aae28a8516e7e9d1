"""Load an application in a throwaway interpreter and probe its status page.

    python -m rolling_restart_hook.preflight TARGET [--chdir DIR] [--pythonpath DIR]
                                             [--timeout S] [--import-timeout S]

TARGET is one of:

* ``module:attr`` (``pkg.wsgi:application``),
* ``module`` (meaning ``module:application``),
* ``module:factory()`` or ``module:factory('arg', key=1)``: Gunicorn's call form,
  literal arguments only,
* a script file ``path/to/app.wsgi`` or ``app.py`` (mod_wsgi / uWSGI
  ``--wsgi-file`` style: the file is executed and ``application`` taken from it),
  optionally ``path/to/app.wsgi:name``.

The working directory and the front of ``sys.path`` are DIR (``--chdir``) or the
current directory, as Gunicorn's ``--chdir`` does. Hook lines at the end of a
script (``notify_ready(application)``) do not send anything here.

Prints on stdout the lines a datagram would carry (READY, STATUS, RELEASE, ROOT)
and exits with:

An ASGI application (an ``async def`` callable, such as FastAPI, Starlette or Django's
ASGIHandler) runs in an event loop of its own: lifespan startup (bounded by --import-timeout,
else 30 s), the probe, lifespan shutdown.

* 0: the status page answered 2xx,
* 1: it answered something else, raised, or did not finish within --timeout,
* 2: the application could not be imported or found (traceback on stderr), the
  import took longer than --import-timeout, or the command line was wrong.
"""

import argparse
import ast
import importlib
import os
import re
import signal
import sys
import traceback
import types

from . import notify as _notify
from .asgi_preflight import preflight as preflight_asgi
from .asgi_probe import asgi_interface
from .datagram import sanitize
from .identity import app_directory, read_release
from .probe import probe
from .util import describe, format_seconds

EXIT_READY = 0
EXIT_NOT_READY = 1
EXIT_LOAD_FAILED = 2

SCRIPT_SUFFIXES = (".wsgi", ".py")


class LoadError(Exception):
    """The target could not be turned into a callable; the message says why."""


class ImportTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so that the application's own
    ``except Exception`` blocks do not swallow it."""


def _split_script_target(target):
    """'dir/app.wsgi' or 'dir/app.wsgi:name' -> (path, name), else None."""
    path, name = target, "application"
    head, sep, tail = target.rpartition(":")
    if sep and head.endswith(SCRIPT_SUFFIXES) and tail.isidentifier():
        path, name = head, tail
    if path.endswith(SCRIPT_SUFFIXES) and (os.sep in path or os.path.isfile(path)):
        return path, name
    return None


def load_script(path, name="application"):
    """Execute a WSGI script file as mod_wsgi does and return its ``name``."""
    path = os.path.abspath(path)
    with open(path, "rb") as handle:
        source = handle.read()
    module_name = "_rolling_restart_script_" + re.sub(r"\W", "_", path)
    module = types.ModuleType(module_name)
    module.__file__ = path
    sys.modules[module_name] = module
    exec(compile(source, path, "exec"), module.__dict__)
    if not hasattr(module, name):
        raise LoadError("%s defines no %r" % (path, name))
    return getattr(module, name)


def _literal_call(expression, target):
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        raise LoadError("cannot parse %r in %r: use module:name or module:factory()"
                        % (expression, target))
    if isinstance(node, ast.Name):
        return node.id, None, None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        try:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = dict((k.arg, ast.literal_eval(k.value)) for k in node.keywords)
        except ValueError:
            raise LoadError("the arguments of %r must be literals" % expression)
        return node.func.id, args, kwargs
    raise LoadError("%r in %r is neither a name nor a call of a name" % (expression, target))


def load_target(target):
    """TARGET (see the module docstring) -> (callable, file of the code)."""
    script = _split_script_target(target)
    if script is not None:
        path, name = script
        return load_script(path, name), os.path.abspath(path)
    module_name, _, expression = target.partition(":")
    if not module_name:
        raise LoadError("no module in %r: use module:callable" % target)
    module = importlib.import_module(module_name)
    name, args, kwargs = _literal_call(expression or "application", target)
    if not hasattr(module, name):
        raise LoadError("module %s (%s) has no attribute %r"
                        % (module_name, getattr(module, "__file__", "?"), name))
    app = getattr(module, name)
    if args is not None:
        app = app(*args, **kwargs)
    if not callable(app):
        raise LoadError("%s is not callable (it is a %s)" % (target, type(app).__name__))
    return app, getattr(module, "__file__", None)


def _with_import_timeout(seconds, function, *args):
    if not seconds or not hasattr(signal, "setitimer"):
        return function(*args)

    def expired(signum, frame):
        raise ImportTimeout()
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _positive_seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("%r is not a positive number of seconds" % text)
    return value


def _print_fields(ready, status, release=None, root=None):
    fields = {"READY": "1" if ready else "0", "STATUS": status, "RELEASE": release, "ROOT": root}
    for key in ("READY", "STATUS", "RELEASE", "ROOT"):
        if fields[key] is not None:
            sys.stdout.write("%s=%s\n" % (key, sanitize(fields[key])))


def run(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m rolling_restart_hook.preflight",
        description="Import a WSGI application and probe its status page in-process.")
    parser.add_argument("target", help="module:callable, module, module:factory() or a .wsgi/.py file")
    parser.add_argument("--chdir", help="directory to change to and put first on sys.path")
    parser.add_argument("--pythonpath", action="append", default=[],
                        help="extra directory for sys.path (repeatable)")
    parser.add_argument("--timeout", type=_positive_seconds, default=None,
                        help="probe timeout in seconds (default ROLLING_RESTART_PROBE_TIMEOUT or 10)")
    parser.add_argument("--import-timeout", type=_positive_seconds, default=None,
                        help="give up when importing takes longer than this (default: no limit)")
    args = parser.parse_args(argv)

    _notify.SUPPRESSED = True
    directory = os.path.abspath(args.chdir or os.getcwd())
    try:
        os.chdir(directory)
    except OSError as error:
        _print_fields(False, "error: cannot chdir to %s: %s" % (directory, describe(error)))
        return EXIT_LOAD_FAILED
    for extra in reversed(args.pythonpath):
        sys.path.insert(0, os.path.abspath(extra))
    sys.path.insert(0, directory)

    try:
        app, code_file = _with_import_timeout(args.import_timeout, load_target, args.target)
    except ImportTimeout:
        message = "error: importing %s took longer than %ss" % (
            args.target, format_seconds(args.import_timeout))
        sys.stderr.write(message + "\n")
        _print_fields(False, message)
        return EXIT_LOAD_FAILED
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        traceback.print_exc()
        _print_fields(False, "error: cannot load %s: %s" % (args.target, describe(error)))
        return EXIT_LOAD_FAILED

    if asgi_interface(app) is not None:  # lifespan startup, probe, lifespan shutdown
        ok, status = preflight_asgi(app, args.timeout, args.import_timeout)
    else:
        ok, status = probe(app, args.timeout)
    app_dir = app_directory(app, code_file)
    _print_fields(ok, status, read_release(app_dir), os.path.realpath(app_dir))
    return EXIT_READY if ok else EXIT_NOT_READY


def main(argv=None):
    try:
        code = run(argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else EXIT_LOAD_FAILED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    # os._exit: a hung probe thread or threads started by the application must not
    # keep this throwaway interpreter alive after the verdict.
    os._exit(code)


if __name__ == "__main__":
    main()
