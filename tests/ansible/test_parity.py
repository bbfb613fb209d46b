"""Parity with vanilla in the corners an independent suite found (issue 18).

Controller-side; real runs of ansible-playbook / ansible under vanilla
`linear` and `mitogen_linear` against test-bed targets: the plain image and
the `log_output` variant (sudo I/O logging, tests/testbed/variants.py).
Each test reproduces one difference that existed and compares what the
user sees (results, messages, recap) with vanilla.
"""
import json
import os
import shlex
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


# -- 3. which shell runs a command -------------------------------------------

def _output(result: dict) -> List[str]:
    # vanilla's ssh -tt adds "\r" and "Shared connection to ... closed."
    lines = (result.get("stdout") or "").replace("\r", "").splitlines()
    return [line for line in lines if not line.startswith("Shared connection")]


@pytest.mark.timeout(300)
def test_which_shell_runs_commands(inventory, tmp_path):
    vanilla = by_task(results("_parity_shells.yml", inventory, harness.VANILLA, tmp_path))
    ours = by_task(results("_parity_shells.yml", inventory, harness.MITOGEN, tmp_path))
    assert set(vanilla) == set(ours)
    # the comparison must tell the shells apart
    assert _output(vanilla["raw in the login shell"])[:2] == ["2/usr/bin/bash", "root"]
    for task in vanilla:
        assert (ours[task]["_status"], _output(ours[task])) == (vanilla[task]["_status"], _output(vanilla[task])), (
            task, vanilla[task], ours[task])


# -- 2. meta: reset_connection over many hosts of one machine ----------------

def _host_line_vars(inventory: str) -> Dict[str, str]:
    with open(inventory) as fp:
        line = [row for row in fp if row.startswith("target-0 ")][0]
    return dict(item.partition("=")[::2] for item in shlex.split(line)[1:])


def reset_inventory(inventory: str, path) -> str:
    """Six hosts reaching target-0 as one login user, each with its own
    (templated) become settings; YAML, so templates stay strings."""
    common = dict(_host_line_vars(inventory), ansible_user="mitogen_sudo_pw", pw="sudopw")
    hosts = {
        "h-root": {"ansible_become": True, "ansible_become_user": "{{ 'ro' ~ 'ot' }}",
                   "ansible_become_password": "{{ pw }}", "expected_user": "root"},
        "h-user": {"ansible_become": True, "ansible_become_user": "mitogen_user",
                   "ansible_become_password": "{{ pw }}", "expected_user": "mitogen_user"},
        "h-exe": {"ansible_become": True, "ansible_become_exe": "{{ '/usr/bin/sudo' }}",
                  "ansible_become_password": "sudopw", "expected_user": "root"},
        "h-flags": {"ansible_become": True, "ansible_become_flags": "{{ '-H -S' }}",
                    "ansible_become_password": "sudopw", "expected_user": "root"},
        "h-su": {"ansible_become": True, "ansible_become_method": "{{ 'su' }}",
                 "ansible_become_password": "{{ 'root' ~ 'pw' }}", "expected_user": "root"},
        "h-none": {"ansible_become": False, "expected_user": "mitogen_sudo_pw"},
    }
    path.write_text(json.dumps({"all": {"vars": common, "hosts": hosts}}))
    return str(path)


@pytest.mark.timeout(400)
def test_reset_connection_many_hosts_one_machine(inventory, tmp_path):
    """The strategy process, resetting hosts of both multiplexers, sent with
    the context id of its last multiplexer connection to the first one:
    messages dropped, reply never came, run hung."""
    inv = reset_inventory(inventory, tmp_path / "reset.json")
    name = "_parity_reset_many.yml"
    ours = harness.run_playbook(name, inv, strategy=harness.MITOGEN, timeout=240)
    assert harness.check_outcome(ours, {}) is None, ours.describe()
    assert "claiming src_id" not in ours.stdout + ours.stderr, ours.describe()
    assert len(ours.recap) == 6
    vanilla = harness.run_playbook(name, inv, strategy=harness.VANILLA, timeout=240)
    assert vanilla.recap == ours.recap, (vanilla.describe(), ours.describe())
