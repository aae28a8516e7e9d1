"""What this worker loaded, recorded once its probe passed, so that rolling-restart can tell
whether the code on disk is still the code the running workers loaded.

If every worker about to be restarted loaded exactly the files that are on disk now, and passed
its probe with them, loading them once more in a throwaway interpreter (the preflight) proves
nothing new: a scheduled recycle of an unchanged release then starts at once instead of paying a
full import of the app. Any difference (a file edited, replaced or removed, a module added in a
directory the app imports from) and the preflight runs as before.

The record lists, for every module in ``sys.modules`` that has a file, the file's path and its
identity: device, inode, size, modification and change time in nanoseconds. The change time
cannot be set from user space, so a deploy that keeps modification times (``cp -p``, ``rsync -t``)
is still seen. Then the same identity for each directory imports are looked up in: each
``sys.path`` entry (``""`` is the working directory) and each package's ``__path__``. Adding,
removing or renaming an entry changes a directory's times, which covers a new module that would
shadow an old one and a configuration file replaced by a deploy tool (they write a new file and
rename it over the old). The directory of a file loaded by its path (Gunicorn's config file) is
not one of them: only the file itself counts, and a pid file or log written beside it does not.
A file that cannot be examined (a module inside a zip archive) is listed as such, and the
supervisor then runs the preflight.

What it cannot see: a file that is not a module, read at import, and rewritten in place (``>``)
without a rename; and what lies outside the code (a database, an environment variable set
elsewhere). ``--preflight-always`` runs the preflight whatever the record says.

Like the master record (``master_record.py``) it is an anonymous file,
``os.memfd_create("rolling-restart-loaded", MFD_CLOEXEC)``, held by the worker and readable only
where ``/proc/PID/environ`` is. Two lines of JSON: a header (version, pid, time, the SHA-1 of
the body, and ``termRepeat``: what this hook's keep-alive drain does with a TERM that comes again,
see ``keepalive.py``), then the body. Workers that loaded the same files write the same body, so the
supervisor reads each worker's header and each distinct body once.
``ROLLING_RESTART_LOADED_RECORD=off`` writes none. Nothing here raises.
"""

import hashlib
import json
import os
import sys
import time

from . import memfd
from .keepalive import TERM_REPEAT
from .util import describe, log

NAME = "rolling-restart-loaded"
VERSION = 1
MAX_BYTES = 8 * 1024 * 1024

_written_by = None


def _identity(path, directory):
    st = os.stat(path)
    if directory:
        return [path, st.st_dev, st.st_ino, str(st.st_mtime_ns), str(st.st_ctime_ns)]
    return [path, st.st_dev, st.st_ino, st.st_size, str(st.st_mtime_ns), str(st.st_ctime_ns)]


def _paths():
    """(module files, directories) as absolute paths, each sorted."""
    cwd = os.getcwd()
    files = set()
    dirs = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path:
            files.add(os.path.join(cwd, path))
        package_path = getattr(module, "__path__", None)
        if package_path is not None and not isinstance(package_path, str):
            try:
                dirs.update(os.path.join(cwd, p) for p in list(package_path) if isinstance(p, str) and p)
            except Exception:
                pass  # a namespace path that cannot be iterated: its modules' files are listed still
    for entry in sys.path:
        if isinstance(entry, str):
            dirs.add(os.path.join(cwd, entry) if entry else cwd)
    return sorted(files), sorted(dirs)


def build():
    """The body of the record as a dict: what this process loaded, with each file's identity now."""
    files, dirs = _paths()
    body = {"cwd": os.getcwd(), "files": [], "dirs": [], "unreadable": []}
    for key, paths, directory in (("files", files, False), ("dirs", dirs, True)):
        for path in paths:
            try:
                body[key].append(_identity(path, directory))
            except OSError:
                if directory and not os.path.lexists(path):
                    continue  # a sys.path entry that does not exist: nothing was loaded from it
                body["unreadable"].append(path)
    return body


def record():
    """Write the record once in this process; return its fd, or None. Never raises."""
    global _written_by
    try:
        if _written_by == os.getpid():
            return None
        if not memfd.available("ROLLING_RESTART_LOADED_RECORD"):
            return None
        body = json.dumps(build(), separators=(",", ":")).encode("utf-8")
        header = {
            "version": VERSION,
            "pid": os.getpid(),
            "at": time.time(),
            "body": hashlib.sha1(body).hexdigest(),
            "termRepeat": TERM_REPEAT,
        }
        fd = memfd.write(NAME, json.dumps(header).encode("utf-8") + b"\n" + body + b"\n", MAX_BYTES, "loaded-files record")
        if fd is not None:
            _written_by = os.getpid()
        return fd
    except Exception as error:
        log("loaded-files record not written: %s" % describe(error))
        return None
