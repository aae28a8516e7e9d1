# A stdout callback for the module's tests only: at the end of the run, one JSON object with every
# task result per host ({"tasks": [{"name", "host", "status", "result"}]}). ansible-core 2.14 ships
# no JSON stdout callback of its own (that one lives in the ansible.posix collection).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'results_json'

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.tasks = []

    def _record(self, status, result):
        self.tasks.append({
            'name': result._task.get_name(),
            'host': result._host.get_name(),
            'status': status,
            'result': result._result,
        })

    def v2_runner_on_ok(self, result):
        self._record('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record('failed', result)

    def v2_runner_on_skipped(self, result):
        self._record('skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._record('unreachable', result)

    def v2_playbook_on_stats(self, stats):
        self._display.display(json.dumps({'tasks': self.tasks}, default=str))
