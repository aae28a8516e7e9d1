"""The ASGI probe, with small asyncio applications (standard library only)."""

import asyncio
import functools
import os
import unittest

from rolling_restart_hook.asgi_probe import (ASGI2, ASGI3, asgi_interface, build_scope,
                                             probe_async)
from tests.helpers import HookTestCase, elapsed, ok_app, run


def answering(status=200, headers=(), seen=None):
    async def app(scope, receive, send):
        if seen is not None:
            seen["scope"] = scope
            seen["first"] = await receive()
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"ok"})
        if seen is not None:
            seen["after"] = await receive()
    return app


class InterfaceTest(unittest.TestCase):
    def test_coroutine_functions_and_objects_with_async_call_are_asgi3(self):
        class App(object):
            async def __call__(self, scope, receive, send):
                pass
        self.assertEqual(asgi_interface(answering()), ASGI3)
        self.assertEqual(asgi_interface(App()), ASGI3)
        self.assertEqual(asgi_interface(functools.partial(answering(), {})), ASGI3)

    def test_wsgi_applications_are_not_asgi(self):
        class WsgiApp(object):
            def __call__(self, environ, start_response):
                return ok_app(environ, start_response)
        self.assertIsNone(asgi_interface(ok_app))
        self.assertIsNone(asgi_interface(WsgiApp()))

    def test_assumed_asgi_without_async_call_is_asgi2_as_uvicorn_guesses(self):
        self.assertEqual(asgi_interface(ok_app, assume_asgi=True), ASGI2)


class ScopeTest(HookTestCase):
    def test_http_scope_for_the_status_path(self):
        scope = build_scope("/a%20b?x=1")
        self.assertEqual(scope["type"], "http")
        self.assertEqual(scope["asgi"]["version"], "3.0")
        self.assertEqual((scope["method"], scope["scheme"], scope["http_version"]), ("GET", "http", "1.1"))
        self.assertEqual((scope["path"], scope["raw_path"], scope["query_string"]), ("/a b", b"/a%20b", b"x=1"))
        self.assertEqual(dict(scope["headers"])[b"host"], b"localhost")
        self.assertEqual(scope["server"], ("localhost", 80))
        self.assertNotIn("state", scope)

    def test_host_and_path_from_environment(self):
        os.environ["ROLLING_RESTART_STATUS_HOST"] = "example.com:8000"
        os.environ["ROLLING_RESTART_STATUS_PATH"] = "/ready"
        scope = build_scope()
        self.assertEqual(dict(scope["headers"])[b"host"], b"example.com:8000")
        self.assertEqual((scope["path"], scope["server"]), ("/ready", ("example.com", 8000)))

    def test_lifespan_state_is_copied_into_the_scope(self):
        state = {"db": "pool"}
        scope = build_scope("/", state=state)
        self.assertEqual(scope["state"], state)
        self.assertIsNot(scope["state"], state)


class ProbeAsyncTest(HookTestCase):
    def test_200_with_a_proper_exchange(self):
        seen = {}
        self.assertEqual(run(probe_async(answering(200, seen=seen), 5)), (True, "200 OK"))
        self.assertEqual(seen["first"], {"type": "http.request", "body": b"", "more_body": False})
        self.assertEqual(seen["after"], {"type": "http.disconnect"})
        self.assertEqual(seen["scope"]["path"], "/_status")

    def test_non_2xx_is_not_ready_with_hints(self):
        self.assertEqual(run(probe_async(answering(503), 5)), (False, "503 Service Unavailable"))
        ok, status = run(probe_async(answering(404), 5))
        self.assertIn("no route at /_status (set ROLLING_RESTART_STATUS_PATH", status)
        ok, status = run(probe_async(answering(400), 5))
        self.assertIn("Host localhost rejected (Django ALLOWED_HOSTS?)", status)
        ok, status = run(probe_async(answering(307, [(b"location", b"https://x/_status")]), 5))
        self.assertIn("redirected to https://x/_status", status)

    def test_unknown_code_is_kept(self):
        self.assertEqual(run(probe_async(answering(299), 5)), (True, "299"))

    def test_exception_is_an_error(self):
        async def app(scope, receive, send):
            raise KeyError("db")
        self.assertEqual(run(probe_async(app, 5)), (False, "error: KeyError: 'db'"))

    def test_system_exit_stays_inside_the_probe(self):
        async def app(scope, receive, send):
            raise SystemExit(3)
        self.assertEqual(run(probe_async(app, 5)), (False, "error: SystemExit: 3"))

    def test_returning_without_a_response_is_an_error(self):
        async def app(scope, receive, send):
            return None
        ok, status = run(probe_async(app, 5))
        self.assertFalse(ok)
        self.assertIn("without sending http.response.start", status)

    def test_timeout_cancels_the_request_task(self):
        seen = {}

        async def app(scope, receive, send):
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                seen["cancelled"] = True
                raise

        async def main():
            result = await probe_async(app, 0.3)
            await asyncio.sleep(0)  # let the cancellation reach the task
            return result, [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        ((ok, status), left), seconds = elapsed(run, main())
        self.assertEqual((ok, status), (False, "timeout after 0.3s"))
        self.assertTrue(seen.get("cancelled"))
        self.assertTrue(all(t.done() for t in left), left)
        self.assertLess(seconds, 2)

    def test_answered_but_still_running_counts_the_answer(self):
        async def app(scope, receive, send):
            await answering(200)(scope, receive, send)
            await asyncio.sleep(30)  # e.g. a background task after the response
        (ok, status), seconds = elapsed(run, probe_async(app, 0.3))
        self.assertEqual((ok, status), (True, "200 OK"))
        self.assertLess(seconds, 2)

    def test_the_loop_keeps_running_while_the_probe_waits(self):
        ticks = []

        async def app(scope, receive, send):
            await asyncio.sleep(0.3)
            await answering(200)(scope, receive, send)

        async def ticker():
            for _ in range(5):
                ticks.append(1)
                await asyncio.sleep(0.02)

        async def main():
            return await asyncio.gather(probe_async(app, 5), ticker())
        result, _ = run(main())
        self.assertEqual(result, (True, "200 OK"))
        self.assertEqual(len(ticks), 5)

    def test_asgi2_application(self):
        class Legacy(object):
            def __init__(self, scope):
                self.scope = scope

            async def __call__(self, receive, send):
                await answering(204)(self.scope, receive, send)
        self.assertEqual(run(probe_async(Legacy, 5, interface=ASGI2)), (True, "204 No Content"))

    def test_state_reaches_the_request(self):
        async def app(scope, receive, send):
            await answering(200 if scope.get("state", {}).get("ready") else 503)(scope, receive, send)
        self.assertEqual(run(probe_async(app, 5, state={"ready": True})), (True, "200 OK"))
        self.assertFalse(run(probe_async(app, 5))[0])


if __name__ == "__main__":
    unittest.main()
