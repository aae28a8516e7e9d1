"""The module's pure mapping: module options -> CLI argv, and exit code + JSON report -> task result."""
import json
import sys
import unittest

from _paths import load_run_report

rr = load_run_report()

REPLACED = {
    'ok': True,
    'group': 'app',
    'selected': [101, 102],
    'skipped': [{'pid': 103, 'why': 'too young'}],
    'replaced': [{'pid': 201, 'replacedPid': 101}, {'pid': 202, 'replacedPid': 102}],
    'message': '2 of 3 workers of Gunicorn app replaced in 4.1s',
}


def report(**fields):
    return json.dumps(dict(REPLACED, **fields))


def error(code, exit_code, message):
    return json.dumps({'ok': False, 'error': {'code': code, 'exitCode': exit_code, 'message': message}})


class BuildArgv(unittest.TestCase):
    def test_command_json_then_one_flag_per_option_given(self):
        argv = rr.build_argv(
            {
                'command': 'deploy',
                'pidfile': '/run/web1.pid',
                'group': None,
                'master': 4242,
                'state_dir': '/var/lib/rr/web1',
                'notify': '127.0.0.1:4101',
                'root': '/srv/app',
                'release': 'r2',
                'haproxy_socket': '/run/haproxy/admin.sock',
                'haproxy_servers': ['app/web1', 'api/web1'],
                'extra_args': ['--strategy', 'surge'],
            },
            '/usr/bin/rolling-restart',
        )
        self.assertEqual(argv, [
            '/usr/bin/rolling-restart', 'deploy', '--json',
            '--pidfile', '/run/web1.pid', '--master', '4242', '--state-dir', '/var/lib/rr/web1',
            '--notify', '127.0.0.1:4101', '--root', '/srv/app', '--release', 'r2',
            '--haproxy-socket', '/run/haproxy/admin.sock',
            '--haproxy-server', 'app/web1', '--haproxy-server', 'api/web1',
            '--strategy', 'surge',
        ])

    def test_defaults_to_restart_and_leaves_out_empty_options(self):
        argv = rr.build_argv({'group': 'app', 'pidfile': '', 'haproxy_servers': None, 'extra_args': None}, 'rr')
        self.assertEqual(argv, ['rr', 'restart', '--json', '--group', 'app'])

    def test_check_mode_adds_dry_run_before_extra_args(self):
        argv = rr.build_argv({'group': 'app', 'extra_args': ['--batch', '2']}, 'rr', check_mode=True)
        self.assertEqual(argv, ['rr', 'restart', '--json', '--group', 'app', '--dry-run', '--batch', '2'])


class ResultFromRun(unittest.TestCase):
    def test_exit_0_with_workers_replaced_is_changed(self):
        r = rr.result_from_run(0, report(), '')
        self.assertEqual((r['failed'], r['changed'], r['rc']), (False, True, 0))
        self.assertEqual(r['msg'], REPLACED['message'])
        self.assertEqual(r['report']['replaced'][0]['pid'], 201)
        self.assertNotIn('skipped', r, "the report's own skipped list must not mark the task skipped")

    def test_exit_0_with_nothing_replaced_is_ok_unchanged(self):
        r = rr.result_from_run(0, report(replaced=[], selected=[], message='nothing to do: none matches'), '')
        self.assertEqual((r['failed'], r['changed'], r['msg']), (False, False, 'nothing to do: none matches'))

    def test_check_mode_is_changed_when_the_dry_run_selects_workers(self):
        dry = report(replaced=[], message='would replace 2 workers')
        self.assertTrue(rr.result_from_run(0, dry, '', check_mode=True)['changed'])
        self.assertFalse(rr.result_from_run(0, dry, '', check_mode=False)['changed'])
        none = report(replaced=[], selected=[])
        self.assertFalse(rr.result_from_run(0, none, '', check_mode=True)['changed'])

    def test_exit_0_without_a_report_fails(self):
        r = rr.result_from_run(0, 'not json', 'some log line\n')
        self.assertTrue(r['failed'])
        self.assertIn('printed no JSON report: some log line', r['msg'])

    def test_exit_4_fails_with_the_reports_message(self):
        stopped = report(ok=False, replaced=[{'pid': 201, 'replacedPid': 101}],
                         message='stopped after 1 of 2 workers: worker 202 did not report ready')
        r = rr.result_from_run(4, stopped, '')
        self.assertTrue(r['failed'])
        self.assertEqual(r['msg'], 'stopped after 1 of 2 workers: worker 202 did not report ready')
        self.assertTrue(r['changed'], 'a worker was replaced before the failure')
        self.assertEqual(r['rc'], 4)

    def test_exit_5_is_skipped_as_a_group_resisting_a_failed_deploy(self):
        out = error('error-resistance', 5, "group 'app' is in error-resistance mode since 2024-06-01")
        r = rr.result_from_run(5, out, '')
        self.assertFalse(r['failed'])
        self.assertTrue(r['skipped'])
        self.assertFalse(r['changed'])
        self.assertEqual(r['refused'], 'error-resistance')
        self.assertEqual(
            r['msg'],
            "skipped, the group is resisting a failed deploy: group 'app' is in error-resistance mode since 2024-06-01",
        )

    def test_exit_5_for_another_reason_is_skipped_and_says_which(self):
        r = rr.result_from_run(5, error('locked', 5, 'another rolling-restart run holds the lock'), '')
        self.assertTrue(r['skipped'])
        self.assertEqual(r['msg'], 'skipped, the run was refused (locked): another rolling-restart run holds the lock')

    def test_exit_5_fails_with_fail_on_refused(self):
        r = rr.result_from_run(5, error('error-resistance', 5, 'in error-resistance mode'), '', fail_on_refused=True)
        self.assertTrue(r['failed'])
        self.assertNotIn('skipped', r)
        self.assertEqual(r['msg'], 'in error-resistance mode')

    def test_other_exit_codes_fail_with_the_clis_message(self):
        for rc, code in ((1, 'internal'), (2, 'usage'), (3, 'haproxy-no-server')):
            r = rr.result_from_run(rc, error(code, rc, 'the message for %d' % rc), '')
            self.assertTrue(r['failed'])
            self.assertEqual((r['msg'], r['rc']), ('the message for %d' % rc, rc))

    def test_without_json_the_last_stderr_line_is_the_message(self):
        r = rr.result_from_run(2, '', "error: unknown option '--dry-run'\n\n")
        self.assertEqual(r['msg'], "error: unknown option '--dry-run'")
        self.assertIsNone(r['report'])
        self.assertEqual(rr.result_from_run(3, '', '')['msg'], 'rolling-restart exited 3')


class NoAnsibleImport(unittest.TestCase):
    def test_the_mapping_needs_no_ansible(self):
        self.assertNotIn('ansible', sys.modules)


if __name__ == '__main__':
    unittest.main()
