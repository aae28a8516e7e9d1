"""What the worker loaded: where the application's code lives, which release that is,
and how long ago this process started.

Each answer comes from the running process and the disk as they are now; the
Gunicorn adapter adds what only it knows (the app spec, whether the app was preloaded).
"""

import os
import sys
import time

_IMPORTED_AT = time.time()


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


def is_installed_library(path):
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
    if not isinstance(path, str) or is_installed_library(path):
        # e.g. a Flask instance reports flask.app: that is not where the code lives
        return None
    return path


def caller_file(depth=2):
    """The ``__file__`` of the code that called our caller (the WSGI script ending in
    ``notify_ready(application)``), or None."""
    try:
        path = sys._getframe(depth).f_globals.get("__file__")
    except Exception:
        return None
    return path if isinstance(path, str) else None


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
    Elsewhere: time since the hook was imported.
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
