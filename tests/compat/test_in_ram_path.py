"""Every supported ansible-core keeps module calls on our in-RAM path.

Controller-side.  For each supported ansible-core release and each of its
controller Pythons found on this machine (tests/versions.py builds and
caches one venv per pair), in_ram.yml runs under `mitogen_linear` with
`ansible_python_interpreter` pointing at a wrapper that logs every start of
a target interpreter.  Under us the whole play starts one interpreter (the
persistent one); ansible-core's own path starts one per module call, which
is what a silently unhooked execution path looked like on 2.21.  The
$MITOGEN_EXEC_TRACE log must also show a `run_module` call for every
module task.  Targets: the test bed's ssh target (Debian 12, Python 3.11)
for every controller pair, and localhost with each supported target Python
found here, for every release.
"""
import collections
import os
import re
import uuid
from typing import Dict, List, Tuple

import pytest

from ansible_mitogen import support
from tests import versions
from tests.ansible import harness

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "in_ram.yml")
WRAPPER = '#!/bin/sh\necho "$$" >> %(log)s\nexec %(python)s "$@"\n'
MODULE_TASKS = ("m command", "m shell", "m file", "m copy", "m stat", "m lineinfile", "m ping",
                "m setup", "m loop", "m async", "m cleanup")
PYTHONS = versions.find_pythons()


def _combos() -> List[Tuple[support.Version, support.Version]]:
    out = []
    for core, spec in sorted(support.ANSIBLE_CORE.items()):
        low, high = spec.controller
        out += [(core, py) for py in sorted(PYTHONS) if low <= py <= high]
    return out


def _ident(combo) -> str:
    return "core%d.%d-py%d.%d" % (combo[0] + combo[1])


def _newest_controller(core: support.Version) -> str:
    found = versions.controller_pythons(core)
    if not found:
        pytest.skip("no controller Python for ansible-core %d.%d on this machine" % core)
    return found[max(found)]


def _run(venv: str, inventory: str, tmp_path) -> Tuple[harness.RunResult, Dict[str, collections.Counter]]:
    """The run's result and {task name: Counter(target function called)}, over all hosts."""
    trace = tmp_path / "trace.tsv"
    args = ["-e", "work_dir=/tmp/am-in-ram-%s-{{ inventory_hostname }}" % uuid.uuid4().hex[:8]]
    result = harness.run_playbook(PLAYBOOK, inventory, strategy=harness.MITOGEN, args=args,
                                  env={"MITOGEN_EXEC_TRACE": str(trace)},
                                  ansible_playbook=os.path.join(venv, "bin", "ansible-playbook"))
    calls: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    if trace.exists():
        for line in trace.read_text().splitlines():
            task, _, func = line.split("\t")[:3]
            calls[task][func] += 1
    return result, calls


def _check(result: harness.RunResult, calls, started: Dict[str, int]) -> None:
    """Run passed, every module task called run_module on each host, one interpreter per host."""
    assert result.rc == 0, result.describe()
    assert result.totals()["failed"] == 0, result.describe()
    off_path = [task for task in MODULE_TASKS if calls[task]["run_module"] < len(started)]
    assert not off_path, "tasks without a run_module call per host: %r\n%s" % (off_path, result.describe())
    wrong = {host: n for host, n in started.items() if n != 1}
    assert not wrong, "target interpreters started per host %r (1 expected; ansible-core's own path " \
        "starts one per module call)\n%s" % (wrong, result.describe())


@pytest.mark.timeout(600)
@pytest.mark.parametrize("combo", _combos(), ids=_ident)
def test_module_calls_stay_in_ram_over_ssh(combo, target, tmp_path):
    core, py = combo
    venv = versions.ansible_venv(core, PYTHONS[py])
    log = "/tmp/am-count-%s.log" % uuid.uuid4().hex[:8]
    wrapper = log[:-4] + ".sh"
    made = target.exec(["sh", "-c", "cat > %s && chmod 755 %s" % (wrapper, wrapper)],
                       input=WRAPPER % {"log": log, "python": target.python})
    assert made.returncode == 0, made.stderr
    with open(target.testbed.inventory) as fp:
        text = re.sub(r"ansible_python_interpreter=\S+", "ansible_python_interpreter=" + wrapper, fp.read())
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(text)
    result, calls = _run(venv, str(inventory), tmp_path)
    lines = target.exec(["sh", "-c", "cat %s 2>/dev/null; rm -f %s %s" % (log, log, wrapper)]).stdout
    _check(result, calls, {target.name: len(lines.split())})


@pytest.mark.timeout(600)
@pytest.mark.parametrize("core", sorted(support.ANSIBLE_CORE), ids="core%d.%d".__mod__)
def test_module_calls_stay_in_ram_per_target_python(core, tmp_path):
    """One localhost alias per supported target Python found here, in one play."""
    venv = versions.ansible_venv(core, _newest_controller(core))
    targets = versions.target_pythons(core)
    assert targets, "no supported target Python on this machine"
    lines = ["[all]"]
    for py, python in sorted(targets.items()):
        name = "py%d.%d" % py
        wrapper = tmp_path / (name + ".sh")
        wrapper.write_text(WRAPPER % {"log": tmp_path / (name + ".log"), "python": python})
        wrapper.chmod(0o755)
        lines.append("%s ansible_connection=local ansible_python_interpreter=%s" % (name, wrapper))
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("\n".join(lines) + "\n")
    result, calls = _run(venv, str(inventory), tmp_path)
    started = {}
    for py in targets:
        log = tmp_path / ("py%d.%d.log" % py)
        started["py%d.%d" % py] = len(log.read_text().split()) if log.exists() else 0
    _check(result, calls, started)


def test_every_supported_release_is_exercised():
    """A release with no controller Python here is tested nowhere: say so (-ra shows it)."""
    missing = ["%d.%d" % core for core in support.ANSIBLE_CORE if not versions.controller_pythons(core)]
    if missing:
        pytest.skip("no controller Python on this machine for ansible-core %s" % ", ".join(missing))
