# An action plugin that records which controller process ran it: one JSON
# line (host, pid, parent pid) in $ENGINE_WHERE_LOG.  With die=true it
# SIGKILLs that process, as a crash of the executor would, unless it is the
# strategy process (ansible-playbook itself); with prompt=true it asks a
# question, which the strategy process answers (without a terminal: with
# the error it raises).  A second's sleep first (die,
# prompt) keeps every host's task running at once.
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if self._task.args.get('die') or self._task.args.get('prompt'):
            time.sleep(1)
        if self._task.args.get('die') and multiprocessing.current_process().name != 'MainProcess':
            os.kill(os.getpid(), signal.SIGKILL)
        row = dict(host=task_vars['inventory_hostname'], task=self._task.get_name(), pid=os.getpid(), ppid=os.getppid())
        if self._task.args.get('prompt'):
            try:
                row['answer'] = Display().prompt_until('type something for %s' % row['host'])
            except AnsibleError as exc:  # no terminal: the strategy process says so
                row['answer'] = 'error: %s' % exc
        with open(os.environ['ENGINE_WHERE_LOG'], 'a') as log:
            log.write(json.dumps(row) + '\n')
        result.update(changed=False, executor_pid=os.getpid())
        return result
