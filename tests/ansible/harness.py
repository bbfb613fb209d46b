"""Runs ansible-playbook under vanilla or our strategies and parses results.

Used by tests/ansible/test_*.py and bench/ on the controller.  A run is a
real `ansible-playbook` subprocess against test-bed targets; nothing is
mocked.  Playbooks may carry header comments read by `expectations()`:
`# expect: failed=1 unreachable=1` (totals over all hosts in the recap).
"""
import os
import re
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Optional, Sequence

import ansible_mitogen

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK_DIR = os.path.join(REPO_ROOT, "tests", "ansible", "playbooks")
VANILLA = "linear"
MITOGEN = "mitogen_linear"
COUNTERS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")

_RECAP_LINE = re.compile(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$")
_EXPECT_LINE = re.compile(r"^#\s*expect:\s*(.*)$")


class RunResult(NamedTuple):
    rc: int
    stdout: str
    stderr: str
    recap: Dict[str, Dict[str, int]]
    seconds: float

    def totals(self) -> Dict[str, int]:
        """Each recap counter summed over hosts."""
        out = dict.fromkeys(COUNTERS, 0)
        for counters in self.recap.values():
            for key, value in counters.items():
                out[key] = out.get(key, 0) + value
        return out

    def describe(self) -> str:
        return "rc=%d\n--- stdout ---\n%s\n--- stderr ---\n%s" % (self.rc, self.stdout[-8000:], self.stderr[-4000:])


def ansible_bin(tool: str = "ansible-playbook") -> str:
    """The ansible CLI next to the running interpreter (the project venv)."""
    candidate = os.path.join(os.path.dirname(sys.executable), tool)
    return candidate if os.path.exists(candidate) else tool


def environment(strategy: str, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Environment for one ansible-playbook run under `strategy`."""
    env = dict(os.environ)
    paths = ansible_mitogen.plugin_paths()
    env.update(
        ANSIBLE_STRATEGY=strategy,
        ANSIBLE_STRATEGY_PLUGINS=paths["strategy_plugins"],
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_PIPELINING="True",
        ANSIBLE_DEPRECATION_WARNINGS="False",
        ANSIBLE_SSH_CONTROL_PATH_DIR=env.get("ANSIBLE_SSH_CONTROL_PATH_DIR", "/tmp/am-cp"),
        PYTHONPATH=os.pathsep.join(p for p in (REPO_ROOT, env.get("PYTHONPATH")) if p),
    )
    env.update(extra or {})
    return env


def run_playbook(
    playbook: str,
    inventory: str,
    strategy: str = MITOGEN,
    args: Sequence[str] = (),
    env: Optional[Dict[str, str]] = None,
    timeout: float = 300,
    ansible_playbook: Optional[str] = None,
) -> RunResult:
    """Run `playbook` (path or name under PLAYBOOK_DIR) and parse its recap.

    `ansible_playbook` picks another installation (tests/versions.py venvs).
    """
    if not os.path.isabs(playbook):
        playbook = os.path.join(PLAYBOOK_DIR, playbook)
    cmd: List[str] = [ansible_playbook or ansible_bin(), "-i", inventory, playbook] + list(args)
    started = time.monotonic()
    proc = subprocess.run(
        cmd, env=environment(strategy, env), capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT
    )
    return RunResult(proc.returncode, proc.stdout, proc.stderr, parse_recap(proc.stdout), time.monotonic() - started)


def parse_recap(stdout: str) -> Dict[str, Dict[str, int]]:
    """{host: {counter: n}} from the PLAY RECAP section."""
    recap: Dict[str, Dict[str, int]] = {}
    _, _, tail = stdout.rpartition("PLAY RECAP")
    for line in tail.splitlines():
        match = _RECAP_LINE.match(line.strip())
        if match:
            pairs = (item.split("=") for item in match.group(2).split())
            recap[match.group(1)] = {key: int(value) for key, value in pairs}
    return recap


def expectations(playbook: str) -> Dict[str, int]:
    """Counters a playbook declares in `# expect: key=n ...` header lines."""
    if not os.path.isabs(playbook):
        playbook = os.path.join(PLAYBOOK_DIR, playbook)
    wanted: Dict[str, int] = {}
    with open(playbook) as fp:
        for line in fp:
            if not line.startswith("#"):
                break
            match = _EXPECT_LINE.match(line.strip())
            if match:
                for item in match.group(1).split():
                    key, _, value = item.partition("=")
                    wanted[key] = int(value)
    return wanted


def check_outcome(result: RunResult, wanted: Dict[str, int]) -> Optional[str]:
    """None if `result` matches the playbook's declared outcome, else why not."""
    if not result.recap:
        return "no PLAY RECAP in output"
    totals = result.totals()
    rc_wanted = wanted.get("rc")
    bad = {key: totals.get(key) for key, value in wanted.items() if key != "rc" and totals.get(key) != value}
    if bad:
        return "recap %r differs from expected %r" % (totals, wanted)
    if rc_wanted is not None:
        return None if result.rc == rc_wanted else "rc %d != %d" % (result.rc, rc_wanted)
    failing = any(wanted.get(key) for key in ("failed", "unreachable"))
    if result.rc != 0 and not failing:
        return "ansible-playbook exited %d" % result.rc
    return None


def list_playbooks() -> List[str]:
    """Names of every playbook the comparison test runs."""
    return sorted(name for name in os.listdir(PLAYBOOK_DIR) if name.endswith(".yml") and not name.startswith("_"))
