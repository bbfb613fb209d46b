# Records every task result to the JSON file named by $MITOGEN_EXEC_RESULTS,
# so test_exec_results.py can compare vanilla and mitogen results field by
# field.  Controller-side; enabled only through ANSIBLE_CALLBACKS_ENABLED.
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
    name: exec_results
    type: aggregate
    short_description: dump task results as JSON (ansible_mitogen tests)
    description: Writes [[host, task, status, result], ...] to $MITOGEN_EXEC_RESULTS.
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'exec_results'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.rows = []

    def _add(self, result, status):
        data = json.loads(json.dumps(result._result, default=str))
        self.rows.append([result._host.get_name(), result._task.get_name(), status, data])

    def v2_runner_on_ok(self, result):
        self._add(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._add(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._add(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        with open(os.environ['MITOGEN_EXEC_RESULTS'], 'w') as fp:
            json.dump(self.rows, fp, indent=1, sort_keys=True)
