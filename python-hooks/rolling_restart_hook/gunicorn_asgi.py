"""The Gunicorn hook for ASGI workers: Uvicorn's ``uvicorn.workers.UvicornWorker`` (and the
``uvicorn-worker`` package) and Gunicorn 26's own ``-k asgi``.

In both, ``post_worker_init`` runs after the application was imported but before any event
loop runs and before lifespan startup (``Worker.init_process``: ``load_wsgi()``, then the
hook, then ``run()``). So the hook cannot probe there; it replaces the application attribute
the worker serves from with a ``ReadinessApp``, which probes once lifespan startup completed:

* UvicornWorker: ``_serve`` reads ``self.wsgi`` into ``config.app`` when its loop starts.
  The worker's lifespan mode is ``config.lifespan`` (``auto`` unless a subclass changes it).
* ``-k asgi`` (``gunicorn.workers.gasgi.ASGIWorker``): the app is ``worker.asgi`` (``.wsgi``
  is unset), the loop already exists as ``worker.loop``, the mode is ``--asgi-lifespan``.

With lifespan ``off`` nothing calls the application before the first request, so the probe
starts as soon as the loop runs instead.
"""

from .asgi import ReadinessApp
from .asgi_probe import ASGI2, ASGI3, asgi_interface
from .util import describe, log


def is_uvicorn_worker(worker):
    module = type(worker).__module__ or ""
    return module.split(".")[0] in ("uvicorn", "uvicorn_worker") and hasattr(worker, "config")


def _lifespan_mode(value):
    return value if value in ("auto", "on", "off") else "auto"


def _wrap_gunicorn_asgi(worker, report_args):
    cfg = getattr(worker, "cfg", None)
    mode = _lifespan_mode(getattr(cfg, "asgi_lifespan", "auto"))
    wrapper = ReadinessApp(worker.asgi, lifespan=mode, stopping=lambda: not worker.alive, **report_args)
    worker.asgi = wrapper
    if mode == "off":
        worker.loop.call_soon(wrapper.start_probe)
    return wrapper


def _start_when_loaded(config, wrapper):
    """Uvicorn's Server calls ``config.load()`` inside its running loop, before serving."""
    original = config.load

    def load():
        original()
        try:
            import asyncio
            asyncio.get_running_loop().call_soon(wrapper.start_probe)
        except Exception as error:
            log("cannot schedule the ASGI probe: %s" % describe(error))
    config.load = load


def _wrap_uvicorn_worker(worker, report_args):
    config = worker.config
    interface = getattr(config, "interface", "auto")
    if interface == "wsgi":
        return None  # Uvicorn serves a WSGI application: the WSGI probe applies
    inner = {"asgi2": ASGI2, "asgi3": ASGI3}.get(interface) or asgi_interface(worker.wsgi, assume_asgi=True)
    mode = _lifespan_mode(getattr(config, "lifespan", "auto"))
    wrapper = ReadinessApp(worker.wsgi, lifespan=mode, interface=inner, **report_args)
    worker.wsgi = wrapper
    if interface == "asgi2":
        config.interface = "asgi3"  # the wrapper is ASGI 3 and calls the application as ASGI 2
    if mode == "off":
        _start_when_loaded(config, wrapper)
    return wrapper


def install(worker, report_args):
    """Wrap the ASGI application of an ASGI worker; returns the wrapper, or None for a WSGI
    worker (nothing changed). ``report_args``: group, ppid, extra and app_file of the datagram."""
    if getattr(worker, "asgi", None) is not None and getattr(worker, "loop", None) is not None:
        return _wrap_gunicorn_asgi(worker, report_args)
    if is_uvicorn_worker(worker) and getattr(worker, "wsgi", None) is not None:
        return _wrap_uvicorn_worker(worker, report_args)
    return None


def wrong_worker_class(worker, app):
    """The READY=0 status for an ASGI application under a WSGI worker class, else None."""
    if app is None or asgi_interface(app) is None:
        return None
    return ("error: %r is an ASGI application, and the worker class %s serves WSGI: use"
            " -k uvicorn.workers.UvicornWorker or (Gunicorn 26) -k asgi"
            % (app, type(worker).__name__))
