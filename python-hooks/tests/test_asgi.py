"""The ASGI readiness wrapper, driven by a small stand-in for a server's lifespan and requests."""

import asyncio
import os
import unittest

from rolling_restart_hook import asgi
from rolling_restart_hook.asgi import ReadinessApp, notify_ready
from tests.helpers import HookTestCase, parse, run


class App(object):
    """A FastAPI-like app: lifespan sets state after ``delay``; /_status needs that state."""

    def __init__(self, delay=0.05, lifespan=True, fail=None, raises=None):
        self.delay, self.lifespan, self.fail, self.raises = delay, lifespan, fail, raises
        self.events = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            if not self.lifespan:
                raise ValueError("no lifespan here")
            assert (await receive())["type"] == "lifespan.startup"
            await asyncio.sleep(self.delay)
            if self.raises:
                raise RuntimeError(self.raises)
            if self.fail:
                await send({"type": "lifespan.startup.failed", "message": self.fail})
                return
            scope["state"]["ready"] = True
            self.events.append("startup")
            await send({"type": "lifespan.startup.complete"})
            assert (await receive())["type"] == "lifespan.shutdown"
            await send({"type": "lifespan.shutdown.complete"})
            return
        self.events.append(scope["path"])
        ready = not self.lifespan or scope.get("state", {}).get("ready")
        await receive()
        await send({"type": "http.response.start", "status": 200 if ready else 503, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


class Server(object):
    """Runs lifespan startup like Uvicorn (``auto``), then a request, then shutdown."""

    def __init__(self, app):
        self.app = app
        self.sent = []
        self.inbox = None
        self.state = {}

    async def startup(self):
        self.inbox = asyncio.Queue()
        self.inbox.put_nowait({"type": "lifespan.startup"})
        started = asyncio.Event()

        async def send(message):
            self.sent.append(message["type"])
            if message["type"].startswith("lifespan.startup"):
                started.set()

        async def main():
            try:
                await self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state},
                               self.inbox.get, send)
            except Exception as error:
                self.sent.append("raised " + type(error).__name__)
            finally:
                started.set()
        self.task = asyncio.ensure_future(main())
        await started.wait()

    async def request(self, path="/"):
        response = {}

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            if message["type"] == "http.response.start":
                response.update(message)
        scope = {"type": "http", "path": path, "headers": [], "state": dict(self.state)}
        await self.app(scope, receive, send)
        return response

    async def shutdown(self):
        self.inbox.put_nowait({"type": "lifespan.shutdown"})
        await asyncio.wait([self.task], timeout=2)


async def serve(wrapper, settle=0.3, stop=True):
    server = Server(wrapper)
    await server.startup()
    await asyncio.sleep(settle)
    response = await server.request("/")
    if stop:
        await server.shutdown()
    return server, response


class WrapperTest(HookTestCase):
    def test_reports_ready_after_lifespan_startup_with_the_state(self):
        receiver = self.receiver()
        app = App()
        server, response = run(serve(ReadinessApp(app, group="g", ppid=42)))
        fields = parse(receiver.receive())
        self.assertEqual((fields["READY"], fields["STATUS"], fields["GROUP"], fields["PPID"]),
                         ("1", "200 OK", "g", "42"))
        self.assertEqual(app.events[:2], ["startup", "/_status"])
        self.assertEqual(server.sent, ["lifespan.startup.complete", "lifespan.shutdown.complete"])
        self.assertEqual(response["status"], 200)
        self.assertTrue(receiver.nothing(0.2), "one datagram per process")

    def test_startup_failed_is_a_failed_boot(self):
        receiver = self.receiver()
        run(serve(ReadinessApp(App(fail="no database")), stop=False))
        fields = parse(receiver.receive())
        self.assertEqual((fields["READY"], fields["STATUS"]),
                         ("0", "error: lifespan startup failed: no database"))

    def test_app_without_lifespan_is_probed_in_auto_mode(self):
        receiver = self.receiver()
        server, _ = run(serve(ReadinessApp(App(lifespan=False))))
        self.assertEqual(server.sent, ["raised ValueError"])  # the server still sees the error
        self.assertEqual(parse(receiver.receive())["READY"], "1")

    def test_lifespan_error_in_on_mode_is_a_failed_boot(self):
        receiver = self.receiver()
        run(serve(ReadinessApp(App(raises="cannot connect"), lifespan="on"), stop=False))
        fields = parse(receiver.receive())
        self.assertEqual((fields["READY"], fields["STATUS"]),
                         ("0", "error: lifespan startup raised RuntimeError: cannot connect"))

    def test_without_any_lifespan_call_the_first_request_starts_the_probe(self):
        receiver = self.receiver()
        wrapper = ReadinessApp(App(lifespan=False))

        async def main():
            await Server(wrapper).request("/")
            await asyncio.sleep(0.3)
        run(main())
        self.assertEqual(parse(receiver.receive())["READY"], "1")

    def test_start_probe_later_unless_lifespan_came(self):
        receiver = self.receiver()
        wrapper = ReadinessApp(App(lifespan=False))

        async def idle():
            wrapper.start_probe_later(0.1)
            await asyncio.sleep(0.5)
        run(idle())
        self.assertEqual(parse(receiver.receive())["READY"], "1")

    def test_slow_startup_is_not_cut_short_by_the_lifespan_grace(self):
        receiver = self.receiver()
        app = App(delay=0.4)
        wrapper = ReadinessApp(app)

        async def main():
            wrapper.start_probe_later(0.05)
            return await serve(wrapper, settle=0.2)
        run(main())
        fields = parse(receiver.receive())
        self.assertEqual(fields["STATUS"], "200 OK")

    def test_connection_close_once_stopping(self):
        self.receiver()
        stopping = {"now": False}
        wrapper = ReadinessApp(App(), stopping=lambda: stopping["now"])

        async def main():
            server = Server(wrapper)
            await server.startup()
            before = await server.request()
            stopping["now"] = True
            after = await server.request()
            await server.shutdown()
            return before, after
        before, after = run(main())
        self.assertEqual(before["headers"], [])
        self.assertEqual(after["headers"], [(b"connection", b"close")])

    def test_a_broken_stopping_check_changes_nothing(self):
        def broken():
            raise RuntimeError("x")
        self.assertFalse(ReadinessApp(App(), stopping=broken)._is_stopping())

    def test_failed_send_never_raises_into_the_server(self):
        os.environ["ROLLING_RESTART_NOTIFY"] = "no-such-host.invalid:9"
        server, response = run(serve(ReadinessApp(App())))
        self.assertEqual(response["status"], 200)
        self.assertIn("send failed", self.stderr.getvalue())

    def test_off_sends_nothing_and_logs(self):
        os.environ["ROLLING_RESTART_NOTIFY"] = "off"
        run(serve(ReadinessApp(App())))
        self.assertIn("READY=1 200 OK -> off", self.stderr.getvalue())


class NotifyReadyTest(HookTestCase):
    def test_returns_a_wrapper_with_the_parent_as_ppid(self):
        receiver = self.receiver()
        wrapper = notify_ready(App())
        self.assertIsInstance(wrapper, ReadinessApp)
        self.assertIs(notify_ready(wrapper), wrapper)
        run(serve(wrapper))
        fields = parse(receiver.receive())
        self.assertEqual(fields["PPID"], str(os.getppid()))
        self.assertEqual(fields["ROOT"], os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def test_group_defaults_to_the_calling_module_outside_uvicorn(self):
        receiver = self.receiver()
        run(serve(notify_ready(App())))
        self.assertEqual(parse(receiver.receive())["GROUP"], __name__)

    def test_group_from_environment(self):
        receiver = self.receiver()
        os.environ["ROLLING_RESTART_GROUP"] = "api:green"
        run(serve(notify_ready(App())))
        self.assertEqual(parse(receiver.receive())["GROUP"], "api:green")

    def test_inside_a_running_loop_without_lifespan_it_probes_after_the_grace(self):
        receiver = self.receiver()
        original = asgi.LIFESPAN_GRACE

        async def imported_in_loop():
            wrapper = notify_ready(App(lifespan=False))
            await asyncio.sleep(original + 0.5)
            return wrapper
        run(imported_in_loop())
        self.assertEqual(parse(receiver.receive())["READY"], "1")

    def test_preflight_gets_the_app_itself(self):
        from rolling_restart_hook import notify
        notify.SUPPRESSED = True
        self.addCleanup(setattr, notify, "SUPPRESSED", False)
        app = App()
        self.assertIs(notify_ready(app), app)


if __name__ == "__main__":
    unittest.main()
