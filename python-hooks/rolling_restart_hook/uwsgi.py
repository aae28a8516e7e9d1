"""uWSGI readiness hook.

The last line of the WSGI module (``--module`` / ``--wsgi-file``)::

    from rolling_restart_hook.uwsgi import notify_ready; application = notify_ready(application)

uWSGI must run with ``--master``: the master respawns the worker that
rolling-restart stops.

Where the module is loaded decides when the probe runs (uWSGI 2.0,
``plugins/python/python_plugin.c``):

* ``--lazy-apps``: every worker imports the application itself after the fork,
  so ``uwsgi.worker_id()`` is > 0 here and the probe runs at once, before the
  worker enters its request loop. This is the mode for rolling restarts: each new
  worker loads the code that is on disk now.
* Without lazy-apps the master imports the application once (``worker_id()`` is
  0) and forks workers from it. Here we register ``uwsgi.post_fork_hook``, which
  ``uwsgi_python_post_fork()`` calls in every forked process (workers, and mules
  and spoolers too, which are skipped), so each worker probes and sends after its
  fork. Such a worker runs the master's OLD code: the RELEASE and ROOT it reports
  are the master's, which is how the supervisor's release check catches it.

The post-fork hook is set on the ``uwsgi`` module directly because Debian's
uwsgi-plugin-python3 (2.0.21, bookworm) does not ship ``uwsgidecorators``. If the
application already imported ``uwsgidecorators``, our hook joins its
``postfork_chain`` instead of replacing its ``post_fork_hook``; any other
existing ``uwsgi.post_fork_hook`` is kept and called first.

PPID is ``os.getppid()`` (the master). GROUP is ``ROLLING_RESTART_GROUP`` if set,
else the ``procname-master`` option, else it is left out.
"""

import os
import sys

from . import notify as _notify
from .identity import caller_file
from .util import describe, log
from .master_record import record as _record

_record("uwsgi")  # with the app: in the master, or in each worker with lazy-apps

_sent_by_pid = None


def _option(uwsgi, name):
    value = getattr(uwsgi, "opt", {}).get(name)
    if isinstance(value, list):
        value = value[-1] if value else None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) and value else None


def _group(uwsgi):
    # No made-up fallback name: GROUP is optional, and a name that is not the
    # group's own could make the supervisor reject the datagram as another group's.
    if uwsgi is None:
        return None
    return _option(uwsgi, "procname-master")


def _send_once(application, app_file, uwsgi):
    global _sent_by_pid
    if _sent_by_pid == os.getpid():
        return None
    _sent_by_pid = os.getpid()
    return _notify.notify(application, group=_group(uwsgi), ppid=os.getppid(), app_file=app_file)


def _is_worker(uwsgi):
    if uwsgi.worker_id() <= 0:
        return False
    mule_id = getattr(uwsgi, "mule_id", None)
    return not (mule_id is not None and mule_id() > 0)


def _post_fork_hook(application, app_file, uwsgi):
    def hook():
        try:
            if _is_worker(uwsgi):
                _send_once(application, app_file, uwsgi)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:
            log("uwsgi post-fork hook failed: %s" % describe(error))
    return hook


def _register_post_fork(hook, uwsgi):
    decorators = sys.modules.get("uwsgidecorators")
    chain = getattr(decorators, "postfork_chain", None)
    if isinstance(chain, list) and getattr(uwsgi, "post_fork_hook", None) is getattr(
            decorators, "postfork_chain_hook", object()):
        chain.append(hook)
        return
    previous = getattr(uwsgi, "post_fork_hook", None)
    if previous is None:
        uwsgi.post_fork_hook = hook
        return

    def chained():
        try:
            previous()
        finally:
            hook()
    uwsgi.post_fork_hook = chained


def notify_ready(application):
    """Probe now (in a worker) or after each fork (in the master); returns ``application``."""
    if _notify.SUPPRESSED:  # loaded by the preflight command: nothing to report
        return application
    try:
        app_file = caller_file()
        try:
            import uwsgi  # only importable inside uWSGI
        except ImportError:
            log("not running inside uWSGI: probing and sending as process %s" % os.getpid())
            _send_once(application, app_file, None)
            return application
        if uwsgi.worker_id() > 0:
            _send_once(application, app_file, uwsgi)
        else:
            _register_post_fork(_post_fork_hook(application, app_file, uwsgi), uwsgi)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        log("uwsgi hook failed: %s" % describe(error))
    return application
