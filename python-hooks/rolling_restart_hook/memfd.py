"""An anonymous file holding bytes for rolling-restart to read in ``/proc/PID/fd``: the master
record (``master_record.py``) and the loaded-files record (``loaded_record.py``).

``os.memfd_create(NAME, MFD_CLOEXEC)``: never on disk, gone with the process, closed on exec, and
readable only where the process's environment is. Nothing here raises.
"""

import os

from .util import describe, log


def available(switch):
    """Whether a record can be written: Linux's memfd_create exists and ``switch`` (an
    environment variable) is not ``off``."""
    return getattr(os, "memfd_create", None) is not None and os.environ.get(switch, "").lower() != "off"


def write(name, data, max_bytes, what):
    """``data`` in a new memfd called ``name``, kept open; its fd, or None (logged as ``what``)."""
    if len(data) > max_bytes:
        log("%s not written: %d bytes is over %d" % (what, len(data), max_bytes))
        return None
    try:
        fd = os.memfd_create(name, getattr(os, "MFD_CLOEXEC", 1))
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        return fd
    except Exception as error:
        log("%s not written: %s" % (what, describe(error)))
        return None
