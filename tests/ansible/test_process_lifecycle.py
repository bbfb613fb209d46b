"""Multiplexer lifecycle: they start, serve, and leave nothing behind.

Controller-side tests running real ansible-playbook processes.  Every
process of a run inherits a unique marker in its environment, which is how
we find leftovers on the controller; on targets our interpreters carry the
controller pid in their argv[0] (python(mitogen:USER@HOST:PID)).
"""
import os
import signal
import subprocess
import time
import uuid
from typing import List

import pytest

from tests.ansible import harness

SLEEP_PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - command: sleep {seconds}
"""


def _marked_pids(marker: str) -> List[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as fp:
                if marker.encode() in fp.read():
                    found.append(int(name))
        except OSError:
            continue
    return found


def _comm(pid: int) -> str:
    try:
        with open("/proc/%d/comm" % pid) as fp:
            return fp.read().strip()
    except OSError:
        return ""


def _start(tmp_path, inventory: str, seconds: int, marker: str, extra_env=None) -> subprocess.Popen:
    playbook = tmp_path / "sleep.yml"
    playbook.write_text(SLEEP_PLAYBOOK.format(seconds=seconds))
    env = harness.environment(harness.MITOGEN, dict(extra_env or {}, AM_TEST_MARKER=marker))
    return subprocess.Popen(
        [harness.ansible_bin(), "-i", inventory, str(playbook)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, cwd=harness.REPO_ROOT,
    )


def _wait_gone(marker: str, timeout: float = 20) -> List[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = _marked_pids(marker)
        if not left:
            return []
        time.sleep(0.2)
    return _marked_pids(marker)


@pytest.mark.timeout(120)
def test_multiplexers_run_during_play_and_exit_after(tmp_path, local_inventory):
    marker = "am-%s" % uuid.uuid4().hex
    proc = _start(tmp_path, local_inventory, 4, marker, {"MITOGEN_CPU_COUNT": "3"})
    try:
        seen = set()
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            seen.update(pid for pid in _marked_pids(marker) if _comm(pid) == "ansible-mitogen")
            time.sleep(0.2)
        out = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out
    assert len(seen) == 3, "expected 3 multiplexers, saw %r\n%s" % (seen, out)
    assert _wait_gone(marker) == [], "processes left after the run"


@pytest.mark.timeout(120)
def test_ctrl_c_leaves_no_process_on_controller_or_target(tmp_path, inventory, testbed):
    marker = "am-%s" % uuid.uuid4().hex
    proc = _start(tmp_path, inventory, 120, marker)
    target = testbed.targets[0]
    tag = ":%d)" % proc.pid
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and tag not in _target_ps(target):
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.3)
        assert tag in _target_ps(target), "our interpreter never showed up on the target"
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl+C does
        out = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0
    assert _wait_gone(marker) == [], "controller processes left after Ctrl+C:\n%s" % out
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and tag in _target_ps(target):
        time.sleep(0.3)
    assert tag not in _target_ps(target), "target processes left after Ctrl+C:\n%s" % _target_ps(target)


def _target_ps(target) -> str:
    return target.exec(["ps", "-eo", "pid,args"]).stdout


def _cmdline(pid: int) -> str:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as fp:
            return fp.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


@pytest.mark.timeout(120)
def test_ctrl_c_with_local_connection_leaves_no_process(tmp_path, local_inventory):
    marker = "am-%s" % uuid.uuid4().hex
    proc = _start(tmp_path, local_inventory, 120, marker)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(_cmdline(pid).startswith("python(mitogen:") for pid in _marked_pids(marker)):
                break
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.2)
        else:
            pytest.fail("the local interpreter never started")
        os.killpg(proc.pid, signal.SIGINT)
        out = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0
    left = _wait_gone(marker)
    assert left == [], "left after Ctrl+C: %r\n%s" % ([_cmdline(p) for p in left], out)
