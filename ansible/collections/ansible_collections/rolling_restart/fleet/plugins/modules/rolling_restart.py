#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rolling-restart contributors
# MIT License (see the repository's package.json)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: rolling_restart
short_description: Roll the workers of a Gunicorn, mod_wsgi or uWSGI server with the rolling-restart CLI
description:
  - Runs C(rolling-restart) on the target host with C(--json), one worker at a time, and returns its JSON report.
  - The task is C(changed) when workers were replaced.
  - >-
    It fails with the report's message when a step failed (exit 4), and the group is then in error-resistance mode.
    With C(serial: 1) and C(max_fail_percentage: 0) the play stops at that host and every later host is untouched.
  - A run the CLI refuses (exit 5, usually a group resisting a failed deploy) is skipped, not failed,
    unless I(fail_on_refused) is true.
  - >-
    Every other non-zero exit (1 internal, 2 usage, 3 no such group or not permitted) fails with the CLI's message.
version_added: "0.1.0"
options:
  command:
    description: The CLI command to run.
    type: str
    choices: [restart, deploy, rollback]
    default: restart
  path:
    description: The CLI to run, a path or a name looked up on the target's PATH.
    type: str
    default: rolling-restart
  group:
    description: The group (Gunicorn proc_name, mod_wsgi process group, uWSGI procname). C(--group).
    type: str
  pidfile:
    description: The master's pidfile. C(--pidfile).
    type: path
  master:
    description: The master's process id. C(--master).
    type: int
  server:
    description: The server kind (auto, gunicorn, mod_wsgi, uwsgi). C(--server).
    type: str
  state_dir:
    description: Where group state and locks live. C(--state-dir).
    type: path
  notify:
    description: HOST:PORT where the run listens for readiness datagrams. C(--notify).
    type: str
  root:
    description: For deploy and rollback, the directory holding releases/NAME and the current symlink. C(--root).
    type: path
  release:
    description: For deploy, the release to deploy (a directory in ROOT/releases/). C(--release).
    type: str
  haproxy_socket:
    description:
      - An HAProxy stats socket at level admin (C(stats socket PATH level admin)). C(--haproxy-socket).
      - Each of I(haproxy_servers) is set to drain before the first step and back to ready after a successful roll.
    type: path
  haproxy_servers:
    description: The BACKEND/SERVER names of this host in HAProxy, each given as C(--haproxy-server). Needs I(haproxy_socket).
    type: list
    elements: str
  extra_args:
    description: More CLI arguments, passed as they are after the others (for example C([--strategy, surge])).
    type: list
    elements: str
    default: []
  fail_on_refused:
    description: Fail instead of skipping when the CLI refuses the run (exit 5).
    type: bool
    default: false
notes:
  - Check mode runs the CLI with C(--dry-run), which reports the workers it would replace without signalling any;
    it needs a C(rolling-restart) that has that flag. The task is C(changed) when the report selects workers.
  - Give one of I(group), I(pidfile) or I(master).
requirements:
  - rolling-restart on the target host (Node.js 20)
author:
  - rolling-restart contributors
'''

EXAMPLES = r'''
- name: Roll this host's Gunicorn, drained at HAProxy for the roll
  rolling_restart.fleet.rolling_restart:
    pidfile: /run/app/gunicorn.pid
    state_dir: /var/lib/rolling-restart
    haproxy_socket: /run/haproxy/admin.sock
    haproxy_servers: [app/web1]

- name: Deploy a release; stop the fleet at the first host where it fails
  rolling_restart.fleet.rolling_restart:
    command: deploy
    root: /srv/app
    release: "{{ release }}"
    pidfile: /run/app/gunicorn.pid
  register: roll

- name: Fail, rather than skip, a host that resists a failed deploy
  rolling_restart.fleet.rolling_restart:
    group: app
    fail_on_refused: true
    extra_args: [--strategy, surge]
'''

RETURN = r'''
rc:
  description: The CLI's exit code.
  returned: always
  type: int
  sample: 0
cmd:
  description: The command line that was run.
  returned: always
  type: list
  elements: str
report:
  description:
    - >-
      The CLI's JSON report (C(replaced), C(selected), C(untouched), C(message), ...),
      or its error (C({ok, error: {code, exitCode, message}})) when it refused or failed before rolling.
    - null when the CLI printed no JSON.
  returned: always
  type: dict
  sample: {"ok": true, "group": "app", "replaced": [{"pid": 4242, "replacedPid": 4100}], "message": "2 of 2 workers replaced"}
refused:
  description: Why the CLI refused the run (its error code, for example C(error-resistance) or C(locked)).
  returned: when the task was skipped for exit 5
  type: str
stderr:
  description: The CLI's log lines.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rolling_restart.fleet.plugins.module_utils.run_report import build_argv, result_from_run


def executable(module):
    path = module.params['path']
    return path if '/' in path else module.get_bin_path(path, required=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            command=dict(type='str', default='restart', choices=['restart', 'deploy', 'rollback']),
            path=dict(type='str', default='rolling-restart'),
            group=dict(type='str'),
            pidfile=dict(type='path'),
            master=dict(type='int'),
            server=dict(type='str'),
            state_dir=dict(type='path'),
            notify=dict(type='str'),
            root=dict(type='path'),
            release=dict(type='str'),
            haproxy_socket=dict(type='path'),
            haproxy_servers=dict(type='list', elements='str'),
            extra_args=dict(type='list', elements='str', default=[]),
            fail_on_refused=dict(type='bool', default=False),
        ),
        required_one_of=[('group', 'pidfile', 'master')],
        required_if=[('command', 'deploy', ('root', 'release')), ('command', 'rollback', ('root',))],
        required_by={'haproxy_servers': ('haproxy_socket',)},
        supports_check_mode=True,
    )
    argv = build_argv(module.params, executable(module), module.check_mode)
    rc, stdout, stderr = module.run_command(argv, check_rc=False)
    result = result_from_run(rc, stdout, stderr, module.check_mode, module.params['fail_on_refused'])
    result.update(cmd=argv, stderr=stderr)
    if result.pop('failed'):
        module.fail_json(**result)
    # failed=False said outright: Ansible fails any result with a non-zero rc that does not say (exit 5, skipped)
    module.exit_json(failed=False, **result)


if __name__ == '__main__':
    main()
