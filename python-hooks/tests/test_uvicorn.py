"""What the hook reads from Uvicorn: the supervisor's app spec, its stop, and the SIGTERM drain."""

import asyncio
import os
import signal
import types
import unittest

from rolling_restart_hook import uvicorn
from tests.helpers import HookTestCase, run


class FakeUvicornServer(object):
    """What drain_on_term uses of uvicorn.Server: its SIGTERM handler and connection set."""

    def __init__(self):
        self.should_exit = False
        self.server_state = types.SimpleNamespace(connections={"idle keep-alive"})
        self.config = types.SimpleNamespace(timeout_keep_alive=1)
        self.listener = types.SimpleNamespace(closed=False)
        self.listener.close = lambda: setattr(self.listener, "closed", True)
        self.signals = []

    def handle_exit(self, sig, frame):
        self.signals.append(sig)
        self.should_exit = True


class UvicornDrainTest(HookTestCase):
    def setUp(self):
        super(UvicornDrainTest, self).setUp()
        previous = signal.getsignal(signal.SIGTERM)
        self.addCleanup(signal.signal, signal.SIGTERM, previous)
        self.server = FakeUvicornServer()
        signal.signal(signal.SIGTERM, self.server.handle_exit)

    def test_term_stops_accepting_and_waits_for_the_connections(self):
        server = self.server

        async def main():
            stopping = uvicorn.drain_on_term()
            server.servers = [server.listener]  # Uvicorn creates them after lifespan startup
            self.assertFalse(stopping())
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
            self.assertTrue(stopping())
            await asyncio.sleep(0.3)
            self.assertTrue(server.listener.closed)
            self.assertEqual(server.signals, [])  # still draining: a connection is open
            server.server_state.connections.clear()
            await asyncio.sleep(0.3)
            return stopping
        stopping = run(main())
        self.assertEqual(server.signals, [signal.SIGTERM])
        self.assertTrue(stopping())

    def test_drain_ends_at_the_deadline(self):
        server = self.server
        original = uvicorn.DRAIN_MARGIN
        uvicorn.DRAIN_MARGIN = 0
        self.addCleanup(setattr, uvicorn, "DRAIN_MARGIN", original)

        async def main():
            uvicorn.drain_on_term()
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
            await asyncio.sleep(1.5)  # keep-alive timeout 1 s + margin 0
        run(main())
        self.assertEqual(server.signals, [signal.SIGTERM])

    def test_a_repeated_term_keeps_draining(self):
        # Gunicorn's master repeats the TERM of a UvicornWorker it retired on TTOU
        server = self.server

        async def main():
            uvicorn.drain_on_term()
            handler = signal.getsignal(signal.SIGTERM)
            handler(signal.SIGTERM, None)
            await asyncio.sleep(0.2)
            handler(signal.SIGTERM, None)
            handler(signal.SIGTERM, None)
            await asyncio.sleep(0.2)
            self.assertEqual(server.signals, [])  # still draining: a connection is open
            server.server_state.connections.clear()
            await asyncio.sleep(0.3)
        run(main())
        self.assertEqual(self.server.signals, [signal.SIGTERM])

    def test_a_term_once_uvicorn_stops_is_uvicorns(self):
        self.server.should_exit = True

        async def main():
            uvicorn.drain_on_term()
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        run(main())
        self.assertEqual(self.server.signals, [signal.SIGTERM])

    def test_without_a_uvicorn_server_nothing_is_installed(self):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

        async def main():
            return uvicorn.drain_on_term()
        self.assertIsNone(run(main()))
        self.assertIs(signal.getsignal(signal.SIGTERM), signal.SIG_DFL)


class UvicornTest(unittest.TestCase):
    def test_spec_from_the_supervisor_command_line(self):
        spec = uvicorn.spec_from_argv
        self.assertEqual(spec(["/v/bin/python", "/v/bin/uvicorn", "main:app", "--workers", "3"]), "main:app")
        self.assertEqual(spec(["python3", "-m", "uvicorn", "--port", "80", "pkg.asgi:application"]),
                         "pkg.asgi:application")
        self.assertEqual(spec(["uvicorn", "--header", "x:y", "main:create", "--factory"]), "main:create()")
        self.assertIsNone(spec(["gunicorn", "main:app"]))
        self.assertIsNone(spec(["python", "-c", "from multiprocessing.spawn import spawn_main"]))

    def test_read_argv_of_this_process(self):
        self.assertTrue(uvicorn.read_argv(os.getpid()))
        self.assertEqual(uvicorn.read_argv(2 ** 22 + 7), [])

    def test_stopping_follows_the_servers_sigterm_handler(self):
        server = types.SimpleNamespace(should_exit=False)

        class Handler(object):
            def __call__(self, sig, frame):
                server.should_exit = True
        handler = Handler()
        bound = types.MethodType(lambda self, sig, frame: None, server)
        previous = signal.signal(signal.SIGTERM, bound)
        self.addCleanup(signal.signal, signal.SIGTERM, previous)
        self.assertFalse(uvicorn.stopping())
        server.should_exit = True
        self.assertTrue(uvicorn.stopping())
        signal.signal(signal.SIGTERM, handler)
        self.assertFalse(uvicorn.stopping())


if __name__ == "__main__":
    unittest.main()
