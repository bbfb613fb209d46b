"""Squashing a package loop into one module call (ansible_mitogen/compat/squash.py).

Controller-side, against a private bookworm target (apt needs python3-apt,
which the test-bed image lacks: the files of the controller's own package
are copied in; the test skips on a controller that is not bookworm or lacks
the package).  The loop of
corpus/squash_apt.yml over 100 installed packages must be 100 apt calls by
default and one when `squash_actions` is on, set as a variable or in
ansible.cfg; calls are counted through $MITOGEN_EXEC_TRACE.
"""
import collections
import json
import os
import subprocess
from typing import Dict, Sequence

import pytest

from tests.ansible import harness
from tests.ansible.compat.test_corpus import CORPUS, ENTRY_POINT

TASK = "apt over a list"
DISTRO = "bookworm"
N = 100


@pytest.fixture(scope="module")
def apt_bed(testbed_factory):
    if _codename() != DISTRO:
        pytest.skip("the controller is not %s: its python3-apt would not fit the target" % DISTRO)
    listed = subprocess.run(["dpkg", "-L", "python3-apt"], capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("the controller has no python3-apt package to copy into the target")
    files = [path for path in listed.stdout.splitlines() if os.path.isfile(path)]
    bed = testbed_factory(n=1, distro=DISTRO)
    target = bed.targets[0]
    tar = subprocess.run(["tar", "-cf", "-"] + files, capture_output=True, check=True)
    subprocess.run(["docker", "exec", "-i", target.container, "tar", "-xf", "-", "-C", "/"],
                   input=tar.stdout, check=True, capture_output=True)
    names = subprocess.run(["docker", "exec", target.container, "dpkg-query", "-W", "-f", "${Package}\\n"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert len(names) >= N, names
    return bed, sorted(names)[:N - 1] + ["not-a-package"]


def _codename() -> str:
    try:
        with open("/etc/os-release") as fp:
            fields = dict(line.rstrip("\n").split("=", 1) for line in fp if "=" in line)
    except OSError:
        return ""
    return fields.get("VERSION_CODENAME", "").strip('"')


def _run(apt_bed, tmp_path, squashed: bool, args: Sequence[str] = (), **env: str) -> Dict[str, int]:
    bed, packages = apt_bed
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({"packages": packages, "squashed": squashed}))
    trace = tmp_path / "trace.tsv"
    if trace.exists():
        trace.unlink()
    result = harness.run_playbook(os.path.join(CORPUS, "squash_apt.yml"), bed.inventory, strategy=harness.VANILLA,
                                  args=["-e", "@%s" % extra] + list(args), env=dict(ENTRY_POINT, MITOGEN_EXEC_TRACE=str(trace), **env))
    problem = harness.check_outcome(result, harness.expectations(os.path.join(CORPUS, "squash_apt.yml")))
    assert problem is None, "%s\n%s" % (problem, result.describe())
    calls: Dict[str, int] = collections.Counter()
    for line in trace.read_text().splitlines():
        task, kind, func = line.split("\t")[:3]
        if task == TASK:
            calls[kind + " " + func] += 1
    return calls


def test_loop_is_one_call_per_item_by_default(apt_bed, tmp_path):
    calls = _run(apt_bed, tmp_path, squashed=False)
    assert sum(calls.values()) >= N - 1, calls


def test_squash_actions_variable_makes_one_call(apt_bed, tmp_path):
    calls = _run(apt_bed, tmp_path, squashed=True, args=["-e", "mitogen_squash_actions=true"])
    assert sum(calls.values()) <= 2, calls  # the module's first use may fetch its code


def test_squash_actions_in_ansible_cfg_makes_one_call(apt_bed, tmp_path):
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[accel_mitogen]\nsquash_actions = apt, dnf\n")
    calls = _run(apt_bed, tmp_path, squashed=True, ANSIBLE_CONFIG=str(cfg))
    assert sum(calls.values()) <= 2, calls


def test_squash_actions_not_naming_the_module_leaves_the_loop(apt_bed, tmp_path):
    calls = _run(apt_bed, tmp_path, squashed=False, args=["-e", "mitogen_squash_actions=dnf,yum"])
    assert sum(calls.values()) >= N - 1, calls
