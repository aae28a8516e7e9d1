"""Apache mod_wsgi readiness hook.

The last line of the WSGI script file::

    from rolling_restart_hook.mod_wsgi import notify_ready; notify_ready(application)

(or ``application = notify_ready(application)``: it returns its argument).

Conditions for this to work:

* Daemon mode. Readiness is reported per daemon process of a
  ``WSGIDaemonProcess`` group; in embedded mode (``mod_wsgi.process_group`` is
  empty) the application lives in Apache's own children and nothing is sent.
* Preloading. mod_wsgi imports a script lazily, at the first request routed to it,
  unless it is preloaded: give both ``process-group=`` and ``application-group=``
  on the ``WSGIScriptAlias`` line, or use ``WSGIImportScript``. Without that the
  datagram only leaves at the first request and rolling-restart times out.
* Environment. A daemon process sees the environment of the Apache parent (for a
  packaged Apache: ``/etc/apache2/envvars`` or the systemd unit), not ``SetEnv``,
  which only reaches the per-request WSGI environ. Set ``ROLLING_RESTART_NOTIFY``,
  ``ROLLING_RESTART_SECRET_FILE`` and friends there.
* Python path. This package must be importable by the daemon's interpreter
  (``python-path=`` on ``WSGIDaemonProcess``, or installed in its environment).

PPID is ``os.getppid()``, the Apache parent that forks the daemon processes;
GROUP is ``mod_wsgi.process_group`` unless ``ROLLING_RESTART_GROUP`` is set. At
most one datagram is sent per process, even if the script is reloaded.
"""

import os

from . import notify as _notify
from .identity import caller_file
from .util import describe, log

_sent_by_pid = None


def _process_group():
    """(in_mod_wsgi, process_group)."""
    try:
        import mod_wsgi  # only importable inside Apache
    except ImportError:
        return False, None
    return True, getattr(mod_wsgi, "process_group", None)


def notify_ready(application):
    """Probe ``application`` and send this daemon process's datagram; returns ``application``."""
    global _sent_by_pid
    try:
        if _sent_by_pid == os.getpid() or _notify.SUPPRESSED:
            return application
        app_file = caller_file()
        inside, group = _process_group()
        if inside and not group:
            log("pid %s: mod_wsgi embedded mode: readiness needs a WSGIDaemonProcess "
                "group and process-group= on WSGIScriptAlias; not sending" % os.getpid())
            return application
        if not inside:
            log("not running inside mod_wsgi: probing and sending as process %s" % os.getpid())
        _sent_by_pid = os.getpid()
        _notify.notify(application, group=group or None, ppid=os.getppid(), app_file=app_file)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        log("mod_wsgi hook failed: %s" % describe(error))
    return application
