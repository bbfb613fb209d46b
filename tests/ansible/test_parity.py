"""Parity with vanilla in the corners an independent suite found (issue 18).

Controller-side; real runs of ansible-playbook / ansible under vanilla
`linear` and `mitogen_linear` against test-bed targets: the plain image and
the `log_output` variant (sudo I/O logging, tests/testbed/variants.py).
Each test reproduces one difference that existed and compares what the
user sees (results, messages, recap) with vanilla.
"""
import json
import os
import subprocess
from typing import Dict, List, Sequence

import pytest

from tests.ansible import harness
from tests.testbed import variants

CALLBACK_DIR = os.path.join(harness.PLAYBOOK_DIR, "callback_plugins")


@pytest.fixture(scope="module")
def log_output_bed(testbed_factory):
    """One target whose sudoers has `Defaults log_output` (and Debian's use_pty)."""
    testbed_factory  # docker is usable (skips or fails like every test-bed test)
    bed = variants.up("log_output")
    try:
        yield bed
    finally:
        bed.down()


def run_adhoc(inventory: str, strategy: str, args: Sequence[str], env: Dict[str, str] = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """`ansible all -i inventory ARGS` under `strategy`; text output."""
    cmd = [harness.ansible_bin("ansible"), "all", "-i", inventory] + list(args)
    return subprocess.run(cmd, env=harness.environment(strategy, env), capture_output=True, text=True,
                          timeout=timeout, cwd=harness.REPO_ROOT)


def results(playbook: str, inventory: str, strategy: str, tmp_path, args: Sequence[str] = (),
            env: Dict[str, str] = None) -> List[list]:
    """[[host, task, status, result], ...] of one run (exec_results callback)."""
    out = tmp_path / ("%s-%s.json" % (os.path.basename(playbook), strategy))
    extra = {"ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIR, "ANSIBLE_CALLBACKS_ENABLED": "exec_results",
             "MITOGEN_EXEC_RESULTS": str(out)}
    extra.update(env or {})
    run = harness.run_playbook(playbook, inventory, strategy=strategy, args=args, env=extra)
    assert out.exists(), run.describe()
    with open(out) as fp:
        return json.load(fp)


def by_task(rows: List[list]) -> Dict[str, dict]:
    return {row[1]: dict(row[3], _status=row[2]) for row in rows}


# -- 1. sudo with I/O logging --------------------------------------------------

@pytest.mark.timeout(400)
def test_sudo_with_log_output(log_output_bed):
    """Stage 1 of the boot found stdin non-blocking behind sudo's I/O logging
    and died with BlockingIOError in about 2 of 3 runs."""
    for attempt in range(3):
        run = run_adhoc(log_output_bed.inventory, harness.MITOGEN,
                        ["-e", "ansible_user=mitogen_sudo_nopw", "-b", "-m", "command", "-a", "whoami"])
        assert run.returncode == 0 and "root" in run.stdout, "attempt %d:\n%s\n%s" % (
            attempt, run.stdout, run.stderr)
    name = "_parity_sudo_log_output.yml"
    for attempt in range(2):
        ours = harness.run_playbook(name, log_output_bed.inventory, strategy=harness.MITOGEN)
        assert harness.check_outcome(ours, {}) is None, ours.describe()
    vanilla = harness.run_playbook(name, log_output_bed.inventory, strategy=harness.VANILLA)
    assert vanilla.recap == ours.recap, (vanilla.describe(), ours.describe())


@pytest.mark.timeout(120)
def test_boot_failure_shows_all_the_child_said(target, inventory):
    """A become step whose tool dies at once: every line it printed is in the
    message, not only the first one."""
    script = "#!/bin/sh\necho 'first line' >&2\necho 'second line' >&2\necho 'third: the reason' >&2\nexit 1\n"
    made = target.exec(["sh", "-c", "cat > /usr/local/bin/broken-sudo && chmod 755 /usr/local/bin/broken-sudo"],
                       input=script)
    assert made.returncode == 0, made.stderr
    run = run_adhoc(inventory, harness.MITOGEN, ["-b", "-e", "ansible_become_exe=/usr/local/bin/broken-sudo",
                                                 "-e", "ansible_become_user=mitogen_user",
                                                 "-m", "command", "-a", "true"])
    assert run.returncode != 0
    for line in ("first line", "second line", "third: the reason"):
        assert line in run.stdout, run.stdout + run.stderr
