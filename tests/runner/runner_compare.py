"""Runs a playbook through ansible-runner and reduces its output for comparison.

Controller side; used by tests/runner/test_runner.py and the numbers in
docs/real-world.md.  ansible-runner is the engine AWX / Automation Platform
use: it writes a private data dir's artifacts (job_events/*.json, stdout,
rc, status, ...) and hands every callback event to Python.  Our strategy is
switched on only through runner's own settings (envvars), the way an AWX
user would do it.
"""
import collections
import os
import shutil
from typing import Any, Dict, List, Tuple

import ansible_runner

import ansible_mitogen
from tests.ansible import harness

HERE = os.path.dirname(os.path.abspath(__file__))
HOST_EVENTS = (
    "runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable",
    "runner_item_on_ok", "runner_item_on_failed", "runner_item_on_skipped",
)


def envvars(strategy: str) -> Dict[str, str]:
    """What goes into env/envvars to pick `strategy` (ours needs its plugin path)."""
    values = {
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_PIPELINING": "True",
        # runner looks ansible-playbook up on PATH: take the one next to us.
        "PATH": os.pathsep.join((os.path.dirname(harness.ansible_bin()), os.environ.get("PATH", ""))),
    }
    if strategy != harness.VANILLA:
        values["ANSIBLE_STRATEGY"] = strategy
        values["ANSIBLE_STRATEGY_PLUGINS"] = ansible_mitogen.plugin_paths()["strategy_plugins"]
    return values


def prepare(private_data_dir: str, inventory: str) -> None:
    """A private data dir: project/ copied from ours, inventory/hosts from the test bed."""
    shutil.copytree(os.path.join(HERE, "project"), os.path.join(private_data_dir, "project"))
    os.makedirs(os.path.join(private_data_dir, "inventory"))
    shutil.copy(inventory, os.path.join(private_data_dir, "inventory", "hosts"))


def run(private_data_dir: str, strategy: str, ident: str) -> ansible_runner.Runner:
    """One ansible-runner run of project/site.yml."""
    return ansible_runner.run(
        private_data_dir=private_data_dir,
        playbook="site.yml",
        ident=ident,
        envvars=envvars(strategy),
        extravars={"runner_ident": ident},
        quiet=True,
        timeout=240,
    )


def event_counts(runner: ansible_runner.Runner) -> Dict[str, int]:
    """How many events of each type runner saw."""
    return dict(collections.Counter(event["event"] for event in runner.events))


def host_results(runner: ansible_runner.Runner) -> List[Tuple[Any, ...]]:
    """(event, task, host, changed, item) per host-level event, in order."""
    out = []
    for event in runner.events:
        if event["event"] not in HOST_EVENTS:
            continue
        data = event["event_data"]
        result = data.get("res") or {}
        out.append((event["event"], data.get("task"), data.get("host"),
                    bool(result.get("changed")), repr(result.get("item"))))
    return out


def artifact_layout(runner: ansible_runner.Runner) -> Dict[str, Any]:
    """Files runner wrote, with job_events reduced to a count (names hold uuids)."""
    root = runner.config.artifact_dir
    files = []
    for dirpath, _, names in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel != "job_events":
            files.extend(os.path.normpath(os.path.join(rel, name)) for name in names)
    with open(os.path.join(root, "rc")) as fp:
        rc = fp.read().strip()
    with open(os.path.join(root, "status")) as fp:
        status = fp.read().strip()
    return {
        "files": sorted(files),
        "job_events": len(os.listdir(os.path.join(root, "job_events"))),
        "rc": rc,
        "status": status,
    }


def summary(runner: ansible_runner.Runner) -> Dict[str, Any]:
    """Everything the comparison looks at, host names included."""
    return {
        "status": runner.status,
        "rc": runner.rc,
        "stats": runner.stats,
        "event_counts": event_counts(runner),
        "host_results": host_results(runner),
        "artifacts": artifact_layout(runner),
    }
