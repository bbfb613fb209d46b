"""Which tasks run on an executor thread and which on a forked worker.

Runs in the controller's strategy process, once per host and task, before
the task starts.  A thread shares the strategy process, so a plugin that
changes process-wide state (signal handlers, the environment, the working
directory, global caches of connection objects) must not run there.  What
we know is safe runs on a thread: every action over our own connection
types.  Everything else keeps ansible-core's worker process, forked for the
one task exactly as vanilla does:

* connection types we do not implement (winrm, psrp, paramiko, network_cli,
  httpapi, netconf, third-party ones), unless listed in
  MITOGEN_THREAD_CONNECTIONS;
* tasks with a `timeout:` (ansible-core enforces it with SIGALRM, which only
  a process's main thread can receive);
* action plugins listed in MITOGEN_FORK_ACTIONS;
* tasks whose variables say `mitogen_executor: fork` (per host, group,
  play, block or task), and every task when MITOGEN_EXECUTOR=fork.
"""
import os
from typing import Any, FrozenSet, Optional

from ansible_mitogen.connection_types import redirected_name

EXECUTOR_VAR = "mitogen_executor"
EXECUTOR_ENV = "MITOGEN_EXECUTOR"
FORK_ACTIONS_ENV = "MITOGEN_FORK_ACTIONS"
THREAD_CONNECTIONS_ENV = "MITOGEN_THREAD_CONNECTIONS"
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def _names(env: str) -> FrozenSet[str]:
    return frozenset(name.strip() for name in os.environ.get(env, "").split(",") if name.strip())


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def engine_forks_everything() -> bool:
    return os.environ.get(EXECUTOR_ENV, "thread").strip().lower() == "fork"


def runs_in_thread(task: Any, task_vars: dict, play_context: Any) -> bool:
    """True if this host's run of `task` may use an executor thread."""
    if engine_forks_everything():
        return False
    if _template(task_vars.get(EXECUTOR_VAR), task_vars) == "fork":
        return False
    if task.timeout:
        return False
    action = _short(str(task.action or ""))
    if action in {_short(name) for name in _names(FORK_ACTIONS_ENV)}:
        return False
    connection = effective_connection(task, task_vars, play_context)
    return connection is None or _thread_safe_connection(connection)


def _thread_safe_connection(name: str) -> bool:
    if name in _names(THREAD_CONNECTIONS_ENV) or _short(name) in _names(THREAD_CONNECTIONS_ENV):
        return True
    return _short(redirected_name(name)).startswith("mitogen_")


def effective_connection(task: Any, task_vars: dict, play_context: Any) -> Optional[str]:
    """The connection type TaskExecutor will load, or None if unknowable
    before the task runs (it then runs on a thread; every type we do not
    implement loads untouched there too)."""
    try:
        variables = task_vars
        if task.delegate_to:
            variables = _delegated_vars(task, task_vars)
            if variables is None:
                return None
        name = variables.get("ansible_connection") or task.connection or play_context.connection
        name = _template(name, task_vars)
        if name == "smart":
            return "ssh"
        return str(name) if name else None
    except Exception:  # templating errors surface when the task runs
        return None


def _delegated_vars(task: Any, task_vars: dict) -> Optional[dict]:
    host = _template(task.delegate_to, task_vars)
    if not isinstance(host, str):
        return None
    hostvars = task_vars.get("hostvars")
    try:
        found = dict(hostvars[host]) if hostvars is not None and host in hostvars else None
    except Exception:
        found = None
    if found is None:
        return {"ansible_connection": "local"} if host in LOCAL_NAMES else {}
    if host in LOCAL_NAMES and "ansible_connection" not in found:
        found["ansible_connection"] = "local"
    return found


def _template(value: Any, task_vars: dict) -> Any:
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        from ansible.template import Templar

        return Templar(None, variables=task_vars).template(value)
    return value
