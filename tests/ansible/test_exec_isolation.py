"""Task isolation under mitogen_linear, observed through module PIDs.

Controller-side: runs playbooks/_exec_isolation.yml and reads the PIDs the
new-style module reported: in-process tasks share the persistent
interpreter's PID; a task with mitogen_task_isolation=fork gets a child.
"""
import re

import pytest

from tests.ansible import harness


@pytest.mark.timeout(300)
def test_fork_isolation_per_task(inventory):
    result = harness.run_playbook("_exec_isolation.yml", inventory, strategy=harness.MITOGEN)
    assert result.rc == 0, result.describe()
    first, second, forked, after = map(int, re.search(r"PIDS (\d+) (\d+) (\d+) (\d+)", result.stdout).groups())
    assert first == second == after, "in-process tasks must share the interpreter"
    assert forked != first, "mitogen_task_isolation=fork must run in a child"
