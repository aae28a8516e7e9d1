"""The module and the example playbook under the real ansible-playbook (Debian's ansible-core), with
a stand-in CLI per host (fake_cli.py): results, check mode, and serial: 1 / max_fail_percentage: 0
stopping the fleet at the first failed host. Skipped where ansible-playbook is not installed."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from _paths import COLLECTIONS, PLAYBOOKS

ANSIBLE_PLAYBOOK = shutil.which('ansible-playbook')
HERE = os.path.dirname(os.path.abspath(__file__))

OK = {'rc': 0, 'stdout': json.dumps({'ok': True, 'replaced': [{'pid': 2}], 'selected': [1], 'message': 'replaced 1 of 1'})}
ABORT = {'rc': 4, 'stdout': json.dumps({'ok': False, 'replaced': [], 'message': 'stopped after 0 of 2 workers: boom'})}
REFUSED = {'rc': 5, 'stdout': json.dumps({'ok': False, 'error': {'code': 'error-resistance', 'exitCode': 5, 'message': 'resisting'}})}


@unittest.skipUnless(ANSIBLE_PLAYBOOK, 'ansible-playbook is not installed (Debian: ansible-core)')
class FleetPlaybook(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='rr-ansible-')
        self.addCleanup(shutil.rmtree, self.dir, True)

    def host(self, name, spec):
        """A host directory with its own stand-in CLI and what it answers."""
        d = os.path.join(self.dir, name)
        os.mkdir(d)
        shutil.copy(os.path.join(HERE, 'fake_cli.py'), os.path.join(d, 'rolling-restart'))
        os.chmod(os.path.join(d, 'rolling-restart'), 0o755)
        with open(os.path.join(d, 'spec.json'), 'w') as f:
            json.dump(spec, f)
        return d

    def argv(self, name):
        path = os.path.join(self.dir, name, 'argv.json')
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def play(self, hosts, *extra):
        """Runs playbooks/fleet-roll.yml over `hosts` (name -> spec); returns (rc, {host: [task results]})."""
        inventory = {'app': {'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': '/usr/bin/python3'},
                             'hosts': {}}}
        for name, spec in hosts.items():
            d = self.host(name, spec)
            inventory['app']['hosts'][name] = {
                'rolling_restart_path': os.path.join(d, 'rolling-restart'),
                'rolling_restart_pidfile': '/run/%s.pid' % name,
                'rolling_restart_haproxy_socket': '/run/haproxy/admin.sock',
                'rolling_restart_haproxy_servers': ['app/%s' % name],
            }
        inv = os.path.join(self.dir, 'inventory.json')
        with open(inv, 'w') as f:
            json.dump(inventory, f)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_STDOUT_CALLBACK='results_json',
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
                   ANSIBLE_NOCOLOR='1', ANSIBLE_LOCAL_TEMP=os.path.join(self.dir, 'tmp'),
                   ANSIBLE_HOME=os.path.join(self.dir, 'home'), ANSIBLE_RETRY_FILES_ENABLED='0')
        proc = subprocess.run([ANSIBLE_PLAYBOOK, '-i', inv, os.path.join(PLAYBOOKS, 'fleet-roll.yml'), *extra],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=300)
        try:
            out = json.loads(proc.stdout)
        except ValueError:
            self.fail('ansible-playbook printed no JSON (rc %d): %s %s' % (proc.returncode, proc.stdout, proc.stderr))
        results = {}
        for task in out['tasks']:
            if task['name'].endswith('Roll the workers of this host'):
                results.setdefault(task['host'], []).append(dict(task['result'], status=task['status']))
        return proc.returncode, results

    def test_every_host_rolled(self):
        rc, results = self.play({'web1': OK, 'web2': OK, 'web3': OK})
        self.assertEqual(rc, 0)
        for name in ('web1', 'web2', 'web3'):
            r = results[name][0]
            self.assertTrue(r['changed'])
            self.assertEqual((r['rc'], r['msg']), (0, 'replaced 1 of 1'))
            self.assertEqual(r['report']['replaced'], [{'pid': 2}])
            self.assertEqual(self.argv(name), [
                'restart', '--json', '--pidfile', '/run/%s.pid' % name,
                '--haproxy-socket', '/run/haproxy/admin.sock', '--haproxy-server', 'app/%s' % name,
            ])

    def test_a_failed_host_stops_the_fleet_and_later_hosts_are_untouched(self):
        rc, results = self.play({'web1': OK, 'web2': ABORT, 'web3': OK})
        self.assertNotEqual(rc, 0)
        self.assertEqual(results['web2'][0]['status'], 'failed')
        self.assertEqual(results['web2'][0]['msg'], 'stopped after 0 of 2 workers: boom')
        self.assertIsNone(self.argv('web3'), 'web3 was never run')
        self.assertNotIn('web3', results)

    def test_a_host_resisting_a_failed_deploy_is_skipped_and_the_fleet_goes_on(self):
        rc, results = self.play({'web1': REFUSED, 'web2': OK})
        self.assertEqual(rc, 0)
        self.assertEqual(results['web1'][0]['status'], 'skipped')
        self.assertEqual(results['web1'][0]['msg'], 'skipped, the group is resisting a failed deploy: resisting')
        self.assertTrue(results['web2'][0]['changed'])

    def test_fail_on_refused_fails_the_host(self):
        rc, results = self.play({'web1': REFUSED, 'web2': OK}, '-e', 'rolling_restart_fail_on_refused=true')
        self.assertNotEqual(rc, 0)
        self.assertEqual(results['web1'][0]['status'], 'failed')
        self.assertIsNone(self.argv('web2'))

    def test_check_mode_runs_a_dry_run(self):
        dry = {'rc': 0, 'stdout': json.dumps({'ok': True, 'replaced': [], 'selected': [1, 2], 'message': 'would replace 2'})}
        rc, results = self.play({'web1': dry}, '--check')
        self.assertEqual(rc, 0)
        self.assertTrue(results['web1'][0]['changed'])
        self.assertIn('--dry-run', self.argv('web1'))


if __name__ == '__main__':
    unittest.main()
