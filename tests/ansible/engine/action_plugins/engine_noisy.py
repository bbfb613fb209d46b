# An action plugin that talks to Display, prints to stdout directly (which a
# worker reports as a warning) and returns a result of its own.
from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        host = task_vars['inventory_hostname']
        display.warning('noisy action warning on %s' % host)
        display.display('noisy action display on %s' % host)
        display.vvv('noisy action verbose on %s' % host)
        if self._task.args.get('print'):
            print('noisy action printed on %s' % host)
        result.update(changed=False, host_seen=host)
        return result
