"""The Gunicorn hook on ASGI workers, with stand-ins shaped like UvicornWorker and -k asgi."""

import asyncio
import types
import unittest

from rolling_restart_hook import gunicorn as hook
from rolling_restart_hook import gunicorn_asgi
from rolling_restart_hook.asgi import ReadinessApp
from rolling_restart_hook.asgi_probe import ASGI2
from tests.helpers import HookTestCase, ok_app, parse
from tests.test_asgi import App, serve


def uvicorn_worker_class():
    """A class that looks like uvicorn.workers.UvicornWorker to the hook."""
    return type("UvicornWorker", (object,), {"__module__": "uvicorn.workers"})


def uvicorn_worker(app, **config):
    worker = uvicorn_worker_class()()
    settings = {"interface": "auto", "lifespan": "auto"}
    settings.update(config)
    worker.config = types.SimpleNamespace(loaded=False, **settings)
    worker.config.load = lambda: setattr(worker.config, "loaded", True)
    worker.wsgi, worker.alive, worker.ppid, worker.pid = app, True, 777, None
    worker.cfg = types.SimpleNamespace(proc_name="api:blue")
    worker.app = types.SimpleNamespace(app_uri="main:app")
    return worker


def asgi_worker(app, lifespan="auto"):
    """Shaped like gunicorn.workers.gasgi.ASGIWorker after init_process set up its loop."""
    return types.SimpleNamespace(
        asgi=app, loop=asyncio.new_event_loop(), alive=True, ppid=778, pid=None,
        cfg=types.SimpleNamespace(proc_name="api:green", asgi_lifespan=lifespan),
        app=types.SimpleNamespace(app_uri="main:app"))


class UvicornWorkerTest(HookTestCase):
    def test_post_worker_init_wraps_the_app_and_reports_after_lifespan(self):
        receiver = self.receiver()
        app = App()
        worker = uvicorn_worker(app)
        self.assertIsNone(hook.post_worker_init(worker))
        self.assertTrue(receiver.nothing(0.2), "nothing before the loop ran lifespan")
        self.assertIsInstance(worker.wsgi, ReadinessApp)
        self.assertIs(worker.wsgi.app, app)
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        loop.run_until_complete(serve(worker.wsgi))
        fields = parse(receiver.receive())
        self.assertEqual((fields["READY"], fields["PPID"], fields["GROUP"], fields["APP"]),
                         ("1", "777", "api:blue", "main:app"))

    def test_wsgi_interface_is_left_to_the_wsgi_probe(self):
        receiver = self.receiver()
        worker = uvicorn_worker(ok_app, interface="wsgi")
        fields = hook.notify_worker(worker)
        self.assertEqual(fields["STATUS"], "200 OK")
        self.assertEqual(parse(receiver.receive())["READY"], "1")

    def test_asgi2_interface_is_served_through_an_asgi3_wrapper(self):
        worker = uvicorn_worker(App(), interface="asgi2")
        gunicorn_asgi.install(worker, {})
        self.assertEqual(worker.config.interface, "asgi3")
        self.assertEqual(worker.wsgi.interface, ASGI2)

    def test_lifespan_off_probes_when_uvicorn_loads_the_config(self):
        receiver = self.receiver()
        worker = uvicorn_worker(App(lifespan=False), lifespan="off")
        hook.post_worker_init(worker)

        async def server_loop():
            worker.config.load()
            await asyncio.sleep(0.3)
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        loop.run_until_complete(server_loop())
        self.assertTrue(worker.config.loaded)
        self.assertEqual(parse(receiver.receive())["READY"], "1")


class GunicornAsgiWorkerTest(HookTestCase):
    def test_worker_asgi_is_wrapped_and_stopping_follows_alive(self):
        receiver = self.receiver()
        worker = asgi_worker(App())
        self.addCleanup(worker.loop.close)
        hook.post_worker_init(worker)
        self.assertIsInstance(worker.asgi, ReadinessApp)
        self.assertFalse(worker.asgi.stopping())
        worker.alive = False
        self.assertTrue(worker.asgi.stopping())
        worker.alive = True
        worker.loop.run_until_complete(serve(worker.asgi))
        fields = parse(receiver.receive())
        self.assertEqual((fields["READY"], fields["PPID"], fields["GROUP"]), ("1", "778", "api:green"))

    def test_lifespan_off_probes_as_soon_as_the_loop_runs(self):
        receiver = self.receiver()
        worker = asgi_worker(App(lifespan=False), lifespan="off")
        self.addCleanup(worker.loop.close)
        hook.post_worker_init(worker)
        worker.loop.run_until_complete(asyncio.sleep(0.3))
        self.assertEqual(parse(receiver.receive())["READY"], "1")

    def test_lifespan_on_makes_a_lifespan_error_a_failed_boot(self):
        receiver = self.receiver()
        worker = asgi_worker(App(raises="boom"), lifespan="on")
        self.addCleanup(worker.loop.close)
        hook.post_worker_init(worker)
        worker.loop.run_until_complete(serve(worker.asgi, stop=False))
        self.assertEqual(parse(receiver.receive())["READY"], "0")


class WrongWorkerClassTest(HookTestCase):
    def test_asgi_app_under_a_wsgi_worker_is_a_failed_boot_that_says_what_to_use(self):
        receiver = self.receiver()
        worker = types.SimpleNamespace(wsgi=App(), cfg=types.SimpleNamespace(proc_name="x"),
                                       ppid=1, pid=None, alive=True)
        hook.post_worker_init(worker)
        fields = parse(receiver.receive())
        self.assertEqual(fields["READY"], "0")
        self.assertIn("is an ASGI application, and the worker class SimpleNamespace serves WSGI: use"
                      " -k uvicorn.workers.UvicornWorker", fields["STATUS"])


if __name__ == "__main__":
    unittest.main()
