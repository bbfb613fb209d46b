"""Action `mitogen_get_stack`: the hops used to reach this host, for debugging.

Runs in the task worker.  Returns `result`: one dict per hop (`method` and
its `kwargs`, passwords masked), nearest the controller first.  Under a
non-Mitogen connection the task is skipped.
"""
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _requires_connection = True
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        get_stack = getattr(self._connection, "get_stack", None)
        if get_stack is None:
            result.update(skipped=True, msg="not a Mitogen connection")
            return result
        result.update(changed=False, result=get_stack())
        return result
