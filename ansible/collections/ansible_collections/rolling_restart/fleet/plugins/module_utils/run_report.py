# -*- coding: utf-8 -*-
# Copyright: rolling-restart contributors
# MIT License (see the repository's package.json)
"""What the rolling_restart module does, without Ansible: the command line it runs, and the task
result it makes of the CLI's exit code and JSON report. Kept free of Ansible imports so that it is
unit-tested with the standard library alone (ansible/tests/)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# The CLI's exit codes (src/errors.ts EXIT).
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_TARGET = 3
EXIT_ABORTED = 4
EXIT_REFUSED = 5

REFUSED_MESSAGE = 'the group is resisting a failed deploy'

# module option -> CLI flag, for the options that take one value
VALUE_FLAGS = (
    ('group', '--group'),
    ('pidfile', '--pidfile'),
    ('master', '--master'),
    ('server', '--server'),
    ('state_dir', '--state-dir'),
    ('notify', '--notify'),
    ('root', '--root'),
    ('release', '--release'),
    ('haproxy_socket', '--haproxy-socket'),
)


def build_argv(params, executable, check_mode=False):
    """The CLI's argv: the command, --json, one flag per option given, each --haproxy-server, then
    extra_args as they are. Check mode adds --dry-run, which reports without signalling."""
    argv = [executable, params.get('command') or 'restart', '--json']
    for option, flag in VALUE_FLAGS:
        value = params.get(option)
        if value is not None and value != '':
            argv += [flag, str(value)]
    for server in params.get('haproxy_servers') or []:
        argv += ['--haproxy-server', str(server)]
    if check_mode:
        argv.append('--dry-run')
    argv += [str(a) for a in params.get('extra_args') or []]
    return argv


def parse_report(stdout):
    """The JSON report on stdout, or None when stdout holds none (the CLI failed before writing it)."""
    text = (stdout or '').strip()
    if not text:
        return None
    try:
        report = json.loads(text)
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


def report_message(report, stderr):
    """The CLI's own words: the report's message, else its error's, else the last line on stderr."""
    if report:
        if report.get('message'):
            return str(report['message'])
        error = report.get('error')
        if isinstance(error, dict) and error.get('message'):
            return str(error['message'])
    lines = [line for line in (stderr or '').splitlines() if line.strip()]
    return lines[-1] if lines else ''


def would_replace(report, check_mode):
    """Workers replaced by this run, or (check mode, from --dry-run's report) the ones it would replace."""
    if not report:
        return False
    if report.get('replaced'):
        return True
    return bool(check_mode and report.get('selected'))


def refusal(report):
    """Why the CLI refused (exit 5): the error code in its report ('error-resistance', 'locked',
    'notify-port-in-use', 'old-code'), or None when the report does not say."""
    error = (report or {}).get('error')
    return error.get('code') if isinstance(error, dict) else None


def skipped_message(report, message):
    code = refusal(report)
    why = REFUSED_MESSAGE if code in (None, 'error-resistance') else 'the run was refused (%s)' % code
    return 'skipped, %s: %s' % (why, message) if message else 'skipped, %s' % why


def result_from_run(rc, stdout, stderr, check_mode=False, fail_on_refused=False):
    """The task result for one run of the CLI. Its 'failed' key says whether the module fails.

    0: ok, changed when workers were replaced (check mode: would be).
    4: failed with the report's message: the roll stopped and the group is in error-resistance mode.
    5: refused; with fail_on_refused false (the default) the task is skipped, not failed, so a host
       that resists a failed deploy is not rolled over, and the play goes on with the next host.
    other: failed with the CLI's message (1 internal, 2 usage, 3 target not found or not permitted).
    """
    report = parse_report(stdout)
    message = report_message(report, stderr)
    result = {
        'rc': rc,
        'changed': would_replace(report, check_mode),
        'report': report,
        'failed': False,
    }
    if rc == EXIT_OK and report is None:
        result.update(failed=True, msg='rolling-restart exited 0 but printed no JSON report: %s' % (message or 'no output'))
    elif rc == EXIT_OK:
        result['msg'] = message or ('would replace workers' if result['changed'] else 'nothing to do')
    elif rc == EXIT_REFUSED and not fail_on_refused:
        result.update(skipped=True, refused=refusal(report), msg=skipped_message(report, message))
    elif rc == EXIT_ABORTED:
        result.update(failed=True, msg=message or 'the roll stopped (exit 4): the group is now in error-resistance mode')
    else:
        result.update(failed=True, msg=message or 'rolling-restart exited %d' % rc)
    return result
