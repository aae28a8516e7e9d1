"""Connection: close once a graceful stop began, and the draining SIGTERM of gthread workers,
with stand-ins shaped like Gunicorn's Response and ThreadWorker (20.1 and 26)."""

import signal
import time
import types
import unittest

from rolling_restart_hook import keepalive
from tests.helpers import HookTestCase


class Response(object):
    """The part of gunicorn.http.wsgi.Response the hook uses."""

    def __init__(self):
        self.must_close = False

    def force_close(self):
        self.must_close = True

    def default_headers(self):
        return ["Connection: %s\r\n" % ("close" if self.must_close else "keep-alive")]

    def start_response(self, status, headers, exc_info=None):
        self.status = status


def app(environ, start_response):
    start_response("200 OK", [])
    return [b"ok"]


def gthread_worker(version=26, keepalive_s=2, graceful=30):
    cls = type("ThreadWorker", (object,), {"__module__": "gunicorn.workers.gthread"})
    worker = cls()
    worker.alive, worker.nr_conns, worker.wsgi = True, 0, app
    worker.cfg = types.SimpleNamespace(keepalive=keepalive_s, graceful_timeout=graceful)
    worker.calls = []
    worker.handle_exit = lambda sig, frame: (worker.calls.append("handle_exit"),
                                             setattr(worker, "alive", False))
    worker.murder_keepalived = lambda: worker.calls.append("murder")
    worker.sockets = ["listener"]
    if version >= 26:
        worker.accepting = True
        worker.set_accept_enabled = lambda enabled: setattr(worker, "accepting", enabled)
        worker.method_queue = types.SimpleNamespace(defer=lambda cb: worker.calls.append("wake"))
    else:
        worker.poller = types.SimpleNamespace(
            unregister=lambda sock: worker.calls.append("unregister " + sock))
    return worker


def serve(worker):
    response = Response()
    body = worker.wsgi({}, response.start_response)
    return response.default_headers()[0].strip(), body


class CloseWhenStoppingTest(HookTestCase):
    def test_keep_alive_while_running_close_after_stop_began(self):
        worker = gthread_worker()
        keepalive.close_when_stopping(worker)
        self.assertEqual(serve(worker), ("Connection: keep-alive", [b"ok"]))
        worker.alive = False
        self.assertEqual(serve(worker)[0], "Connection: close")

    def test_stop_during_the_request_is_seen_when_the_headers_are_written(self):
        worker = gthread_worker()

        def slow(environ, start_response):
            start_response("200 OK", [])
            worker.alive = False  # TERM arrives while the app runs
            return [b"late"]
        worker.wsgi = slow
        keepalive.close_when_stopping(worker)
        self.assertEqual(serve(worker)[0], "Connection: close")

    def test_the_body_is_passed_through_untouched(self):
        worker = gthread_worker()
        body = iter([b"a"])
        worker.wsgi = lambda environ, start_response: body
        keepalive.close_when_stopping(worker)
        self.assertIs(worker.wsgi({}, Response().start_response), body)

    def test_foreign_start_response_is_left_alone(self):
        worker = gthread_worker()
        keepalive.close_when_stopping(worker)
        worker.alive = False
        seen = []
        self.assertEqual(worker.wsgi({}, lambda s, h, e=None: seen.append(s)), [b"ok"])
        self.assertEqual(seen, ["200 OK"])

    def test_worker_without_alive_or_wsgi_is_not_changed(self):
        self.assertIsNone(keepalive.close_when_stopping(types.SimpleNamespace(wsgi=app)))
        self.assertIsNone(keepalive.close_when_stopping(types.SimpleNamespace(alive=True)))


class DrainTest(HookTestCase):
    def setUp(self):
        super(DrainTest, self).setUp()
        previous = signal.getsignal(signal.SIGTERM)
        self.addCleanup(signal.signal, signal.SIGTERM, previous)

    def install(self, worker):
        stop = keepalive.close_when_stopping(worker)
        self.assertTrue(keepalive.drain_on_term(worker, stop))
        return stop, signal.getsignal(signal.SIGTERM)

    def test_term_drains_open_connections_before_gunicorns_own_handling(self):
        worker = gthread_worker(26)
        stop, on_term = self.install(worker)
        worker.nr_conns = 2  # e.g. one idle keep-alive connection, one request in flight
        on_term(signal.SIGTERM, None)
        self.assertTrue(worker.alive)
        self.assertEqual(serve(worker)[0], "Connection: close")
        worker.murder_keepalived()
        self.assertFalse(worker.accepting)
        worker.set_accept_enabled(True)  # Gunicorn 26's loop tries to turn accepting back on
        self.assertFalse(worker.accepting)
        self.assertTrue(worker.alive)
        worker.nr_conns = 0
        worker.murder_keepalived()
        self.assertFalse(worker.alive)
        self.assertEqual(worker.calls, ["wake", "murder", "murder", "handle_exit"])

    def test_gunicorn_20_listeners_are_unregistered(self):
        worker = gthread_worker(20)
        stop, on_term = self.install(worker)
        on_term(signal.SIGTERM, None)
        worker.murder_keepalived()
        self.assertEqual(worker.calls, ["murder", "unregister listener", "handle_exit"])

    def test_drain_ends_at_the_deadline(self):
        worker = gthread_worker(26, keepalive_s=1, graceful=30)
        stop, on_term = self.install(worker)
        worker.nr_conns = 5
        on_term(signal.SIGTERM, None)
        self.assertLessEqual(stop.deadline - time.monotonic(), 1 + keepalive.DRAIN_MARGIN)
        stop.deadline = time.monotonic() - 1
        worker.murder_keepalived()
        self.assertFalse(worker.alive)

    def test_a_repeated_term_keeps_draining(self):
        # Gunicorn's master repeats the TERM of a worker it retired on TTOU at each turn of its loop
        worker = gthread_worker(26)
        stop, on_term = self.install(worker)
        worker.nr_conns = 1
        on_term(signal.SIGTERM, None)
        worker.murder_keepalived()
        on_term(signal.SIGTERM, None)
        on_term(signal.SIGTERM, None)
        worker.murder_keepalived()
        self.assertTrue(worker.alive)
        worker.nr_conns = 0
        worker.murder_keepalived()
        self.assertFalse(worker.alive)
        self.assertEqual(worker.calls.count("handle_exit"), 1)

    def test_a_term_after_the_drain_ended_is_gunicorns(self):
        worker = gthread_worker(26)
        stop, on_term = self.install(worker)
        on_term(signal.SIGTERM, None)
        worker.murder_keepalived()
        self.assertFalse(worker.alive)
        on_term(signal.SIGTERM, None)
        self.assertEqual(worker.calls.count("handle_exit"), 2)

    def test_not_installed_without_keepalive_or_on_other_workers(self):
        worker = gthread_worker(26, keepalive_s=0)
        self.assertFalse(keepalive.drain_on_term(worker, keepalive.close_when_stopping(worker)))
        sync = types.SimpleNamespace(alive=True, wsgi=app, nr_conns=0, cfg=types.SimpleNamespace(keepalive=2),
                                     handle_exit=lambda s, f: None, murder_keepalived=lambda: None)
        self.assertFalse(keepalive.drain_on_term(sync, keepalive.close_when_stopping(sync)))

    def test_a_failure_while_draining_stops_at_once(self):
        worker = gthread_worker(20)
        del worker.poller
        stop, on_term = self.install(worker)
        on_term(signal.SIGTERM, None)
        worker.murder_keepalived()
        self.assertFalse(worker.alive)
        self.assertIn("keep-alive drain failed", self.stderr.getvalue())


if __name__ == "__main__":
    unittest.main()
