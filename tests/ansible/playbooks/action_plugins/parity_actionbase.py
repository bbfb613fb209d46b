# Calls every ActionBase method a third-party action plugin may use and
# returns what each gave back, so test_parity.py can compare vanilla and
# ours (normal and become).  Controller-side test helper.
from __future__ import annotations

import os
import tempfile

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        calls = {}

        def record(name, func, *args, **kwargs):
            try:
                calls[name] = func(*args, **kwargs)
            except Exception as exc:  # the failure itself is part of the contract
                calls[name] = {"raised": type(exc).__name__, "msg": str(exc).splitlines()[0]}
            return calls[name]

        low = self._low_level_execute_command
        record("low: streams and rc", low, "echo out; echo err >&2; exit 3")
        record("low: stdin", low, "cat", in_data="piped\n")
        record("low: not sudoable", low, "id -un", sudoable=False)
        record("low: executable", low, "echo -en 2; id -un", executable="/bin/bash")
        record("low: chdir", low, "pwd", chdir="/tmp")
        record("low: non-UTF-8", low, "printf 'a\\377b\\n'")
        record("low: user", low, "id -un")
        record("expand ~", self._remote_expand_user, "~")
        record("expand ~/x", self._remote_expand_user, "~/x")
        record("expand ~ not sudoable", self._remote_expand_user, "~/x", sudoable=False)
        record("expand ~root/x", self._remote_expand_user, "~root/x")
        record("expand absolute", self._remote_expand_user, "/etc/x")
        record("expand ~nosuch/x", self._remote_expand_user, "~nosuchuser/x")
        tmpdir = record("make_tmp_path", self._make_tmp_path)
        if isinstance(tmpdir, str):
            base = tmpdir.rstrip("/")
            calls["tmp parent"] = os.path.dirname(base)
            record("tmp owner", low, "stat -c '%U %a' " + base)
            record("transfer_data str", self._transfer_data, base + "/str", "text\n")
            record("transfer_data bytes", self._transfer_data, base + "/bytes", b"\x00\xffbin")
            record("transfer_data dict", self._transfer_data, base + "/dict", {"k": [1, 2]})
            fd, local = tempfile.mkstemp()
            with os.fdopen(fd, "w") as fp:
                fp.write("local file\n")
            record("transfer_file", self._transfer_file, local, base + "/file")
            os.unlink(local)
            record("files", low, "cd %s && for f in *; do printf '%%s %%s %%s ' $f $(stat -c '%%U %%a' $f); "
                   "od -An -c $f | tr -s ' ' | tr -d '\\n'; echo; done" % base)
            record("file_exists yes", self._remote_file_exists, base + "/str")
            record("file_exists no", self._remote_file_exists, base + "/nothing")
            record("fixup_perms2", self._fixup_perms2, [base + "/str"])
            record("after fixup", low, "stat -c '%a' " + base + "/str")
            record("remote_chmod", self._remote_chmod, [base + "/bytes"], "0640")
            record("after chmod", low, "stat -c '%a' " + base + "/bytes")
            stat = record("execute_remote_stat", self._execute_remote_stat, base + "/str", all_vars=task_vars,
                          follow=False)
            if isinstance(stat, dict):
                calls["execute_remote_stat"] = {k: stat.get(k) for k in ("exists", "checksum", "size", "pw_name")}
            record("execute_module ping", self._execute_module, module_name="ping", module_args={"data": "x"},
                   task_vars=task_vars)
            record("execute_module command", self._execute_module, module_name="command",
                   module_args={"_raw_params": "id -un"}, task_vars=task_vars)
            record("execute_module failing", self._execute_module, module_name="command",
                   module_args={"_raw_params": "false"}, task_vars=task_vars)
            record("remove_tmp_path", self._remove_tmp_path, tmpdir)
            record("gone", self._remote_file_exists, base)
            calls = {k: _replace(v, base, "<TMP>") for k, v in calls.items()}
        record("connection exec_command", self._connection.exec_command, "echo -en 2; id -un")
        if isinstance(calls.get("connection exec_command"), tuple):
            rc, out, err = calls["connection exec_command"]
            calls["connection exec_command"] = [rc, out.decode(), err.decode()]
        result["calls"] = calls
        return result


def _replace(value, old, new):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace(v, old, new) for v in value]
    return value
