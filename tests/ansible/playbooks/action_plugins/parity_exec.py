# A third-party action that calls connection.exec_command directly, before
# and after a low-level command, so test_parity.py can compare with vanilla
# the working directory (vanilla's ActionBase points `local` at the playbook
# dir only in _low_level_execute_command) and the TTY (ssh's -tt rule).
# Controller-side test helper.
from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        conn = self._connection
        calls = {}

        def direct(name, cmd, **kwargs):
            rc, out, err = conn.exec_command(cmd, **kwargs)
            calls[name] = [rc, out.decode(), err.decode()]

        direct("exec pwd first", "pwd")
        direct("exec streams", "echo out; echo err >&2")
        direct("exec streams, stdin", "cat; echo err >&2", in_data=b"in\n")
        direct("exec streams, not sudoable", "echo out; echo err >&2", sudoable=False)
        low = self._low_level_execute_command("pwd")
        calls["low pwd"] = [low["rc"], low["stdout"], low["stderr"]]
        low = self._low_level_execute_command("echo out; echo err >&2")
        calls["low streams"] = [low["rc"], low["stdout"], low["stderr"]]
        direct("exec pwd after low", "pwd")
        result["calls"] = calls
        return result
