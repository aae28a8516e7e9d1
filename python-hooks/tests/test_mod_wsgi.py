import os
import sys
import types
import unittest
from unittest import mock

from rolling_restart_hook import mod_wsgi as hook
from tests.helpers import HookTestCase, ok_app, parse


class ModWsgiHookTest(HookTestCase):
    def setUp(self):
        super(ModWsgiHookTest, self).setUp()
        hook._sent_by_pid = None
        self.addCleanup(setattr, hook, "_sent_by_pid", None)

    def fake_mod_wsgi(self, **attributes):
        module = types.ModuleType("mod_wsgi")
        module.__dict__.update(attributes)
        patcher = mock.patch.dict(sys.modules, {"mod_wsgi": module})
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_outside_mod_wsgi_sends_and_returns_the_application(self):
        receiver = self.receiver()
        self.assertIs(hook.notify_ready(ok_app), ok_app)
        fields = parse(receiver.receive())
        self.assertEqual(fields["READY"], "1")
        self.assertEqual(fields["PPID"], str(os.getppid()))
        self.assertNotIn("GROUP", fields)
        self.assertIn("not running inside mod_wsgi", self.stderr.getvalue())

    def test_daemon_process_group_is_the_group(self):
        self.fake_mod_wsgi(process_group="app:blue")
        receiver = self.receiver()
        hook.notify_ready(ok_app)
        self.assertEqual(parse(receiver.receive())["GROUP"], "app:blue")

    def test_embedded_mode_does_not_send(self):
        self.fake_mod_wsgi(process_group="")
        receiver = self.receiver()
        self.assertIs(hook.notify_ready(ok_app), ok_app)
        self.assertTrue(receiver.nothing())
        self.assertIn("embedded mode", self.stderr.getvalue())

    def test_sends_at_most_once_per_process(self):
        receiver = self.receiver()
        hook.notify_ready(ok_app)
        receiver.receive()
        self.assertIs(hook.notify_ready(ok_app), ok_app)
        self.assertTrue(receiver.nothing())

    def test_code_directory_is_the_scripts(self):
        directory = self.tempdir()
        self.write_file(directory, "REVISION", "script-rev\n")
        script = self.write_file(directory, "app.wsgi", (
            "def application(environ, start_response):\n"
            "    start_response('200 OK', [])\n"
            "    return [b'ok']\n"
            "from rolling_restart_hook.mod_wsgi import notify_ready; notify_ready(application)\n"))
        receiver = self.receiver()
        namespace = {"__file__": script, "__name__": "_mod_wsgi_fake"}
        exec(compile(open(script).read(), script, "exec"), namespace)
        fields = parse(receiver.receive())
        self.assertEqual(fields["RELEASE"], "script-rev")
        self.assertEqual(fields["ROOT"], os.path.realpath(directory))

    def test_broken_mod_wsgi_module_never_raises(self):
        module = types.ModuleType("mod_wsgi")

        def broken(name):
            raise RuntimeError("weird mod_wsgi")
        module.__getattr__ = broken  # PEP 562 module __getattr__
        with mock.patch.dict(sys.modules, {"mod_wsgi": module}):
            self.assertIs(hook.notify_ready(ok_app), ok_app)
        self.assertIn("mod_wsgi hook failed: RuntimeError: weird mod_wsgi", self.stderr.getvalue())


if __name__ == "__main__":
    unittest.main()
