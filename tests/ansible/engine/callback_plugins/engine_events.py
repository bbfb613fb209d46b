# Records every callback event, reduced to what a user can see and without
# timings, as JSON lines in $ENGINE_EVENTS_LOG, so test_engine_semantics.py
# can compare vanilla's worker processes with our executor threads event for
# event.  Controller-side; enabled only through ANSIBLE_CALLBACKS_ENABLED.
from __future__ import annotations

import json
import os
import threading

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
    name: engine_events
    type: aggregate
    short_description: log callback events as JSON lines (ansible_mitogen tests)
    description: Appends one JSON object per callback event to $ENGINE_EVENTS_LOG.
'''

# Fields that differ from run to run whatever the engine.
VOLATILE = frozenset(('start', 'end', 'delta', 'ansible_job_id', 'results_file', 'finished_at', 'started_at',
                      'stdout_lines', 'stderr_lines', 'ansible_facts', 'invocation', 'pid', 'path',
                      'checksum', 'md5sum', 'backup_file', 'src', 'elapsed', 'uptime', 'stop'))


def _reduce(value):
    if isinstance(value, dict):
        return {str(k): _reduce(v) for k, v in value.items()
                if str(k) not in VOLATILE and not str(k).startswith('_ansible')}
    if isinstance(value, (list, tuple)):
        return [_reduce(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'engine_events'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._path = os.environ['ENGINE_EVENTS_LOG']

    def _log(self, event, host=None, task=None, **fields):
        row = dict(event=event, host=host, task=task, **fields)
        with self._lock, open(self._path, 'a') as fp:
            fp.write(json.dumps(row, sort_keys=True, default=str) + '\n')

    def _result(self, event, result, **fields):
        data = result._result
        facts = data.get('ansible_facts')
        if isinstance(facts, dict):
            fields['fact_names'] = sorted(facts)
        self._log(event, result._host.get_name(), result._task.get_name(), result=_reduce(data), **fields)

    def v2_playbook_on_play_start(self, play):
        self._log('play_start', task=play.get_name())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._log('task_start', task=task.get_name())

    def v2_playbook_on_handler_task_start(self, task):
        self._log('handler_task_start', task=task.get_name())

    def v2_playbook_on_include(self, included_file):
        self._log('include', task=included_file._task.get_name(),
                  hosts=sorted(h.name for h in included_file._hosts), file=os.path.basename(included_file._filename))

    def v2_playbook_on_no_hosts_remaining(self):
        self._log('no_hosts_remaining')

    def v2_runner_on_start(self, host, task):
        self._log('runner_start', host.get_name(), task.get_name())

    def v2_runner_on_ok(self, result):
        self._result('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result('failed', result, ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._result('skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._result('unreachable', result)

    def v2_runner_item_on_ok(self, result):
        self._result('item_ok', result)

    def v2_runner_item_on_failed(self, result):
        self._result('item_failed', result)

    def v2_runner_item_on_skipped(self, result):
        self._result('item_skipped', result)

    def v2_runner_retry(self, result):
        self._result('retry', result)

    def v2_runner_on_async_poll(self, result):
        self._log('async_poll', result._host.get_name(), result._task.get_name())

    def v2_runner_on_async_ok(self, result):
        self._result('async_ok', result)

    def v2_runner_on_async_failed(self, result):
        self._result('async_failed', result)

    def v2_playbook_on_notify(self, handler, host):
        self._log('notify', host.get_name(), handler.get_name())

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        self._log('stats', summary={h: stats.summarize(h) for h in hosts})
