"""2.9-era playbooks (tests/ansible/compat/corpus/) under our activation.

Controller-side, against localhost over the `local` connection (the
constructs are parse- and variable-time matters; no target needed).  Each
playbook asserts, task by task, the results the 2.9 documentation gives;
run through the vars-plugin entry point with the builtin `linear`
strategy, they must pass, and where vanilla ansible-core dropped a feature
the vanilla run must fail on it (so the test proves the shim does the
work).  Runs in both CI lanes (ansible-core 2.19 and 2.21).
"""
import os
from typing import Dict, Sequence

import pytest

from tests.ansible import harness

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
ENTRY_POINT = {"ANSIBLE_VARS_ENABLED": "host_group_vars,accel.mitogen.accelerate"}
# Vanilla's error on a task-level include (2.18 may stop earlier, on its key=value words).
TASK_INCLUDE_ERRORS = ("has been removed", "this task 'include' has extra params")
GROUP_WARNING = "Invalid characters were found in group names"


def _run(name: str, inventory: str, accelerated: bool, args: Sequence[str] = (),
         env: Dict[str, str] = None) -> harness.RunResult:
    extra = dict(ENTRY_POINT if accelerated else {})
    extra.update(env or {})
    return harness.run_playbook(os.path.join(CORPUS, name), inventory, strategy=harness.VANILLA,
                                args=args, env=extra)


@pytest.mark.parametrize("name, vanilla_error", [
    ("include_tasks.yml", TASK_INCLUDE_ERRORS),
    ("include_playbook.yml", ("'include' is not a valid attribute for a Play",)),
])
def test_include_works_accelerated_and_fails_vanilla(name, vanilla_error, local_inventory):
    ours = _run(name, local_inventory, accelerated=True)
    problem = harness.check_outcome(ours, harness.expectations(os.path.join(CORPUS, name)))
    assert problem is None, "%s: %s\n%s" % (name, problem, ours.describe())
    assert not any(error in ours.stdout + ours.stderr for error in TASK_INCLUDE_ERRORS), ours.describe()
    vanilla = _run(name, local_inventory, accelerated=False)
    assert vanilla.rc != 0, vanilla.describe()
    assert any(error in vanilla.stdout + vanilla.stderr for error in vanilla_error), vanilla.describe()


def test_include_read_at_run_time_works_under_strategy_plugin(local_inventory):
    """Without the vars plugin, hooks install when the play starts: files read later are covered."""
    name = os.path.join(CORPUS, "include_at_run_time.yml")
    ours = harness.run_playbook(name, local_inventory, strategy=harness.MITOGEN)
    problem = harness.check_outcome(ours, harness.expectations(name))
    assert problem is None, "%s\n%s" % (problem, ours.describe())
    vanilla = _run("include_at_run_time.yml", local_inventory, accelerated=False)
    assert vanilla.rc != 0, vanilla.describe()
    assert any(error in vanilla.stdout + vanilla.stderr for error in TASK_INCLUDE_ERRORS), vanilla.describe()


def test_static_includes_are_imported_at_parse_time(local_inventory):
    """--list-tasks shows the tasks of static includes only, with the include's tags."""
    listed = _run("include_tasks.yml", local_inventory, accelerated=True, args=["--list-tasks"])
    assert listed.rc == 0, listed.describe()
    out = listed.stdout
    # flip.yml is included four times: statically once, dynamically (static: no,
    # nested under a dynamic include) otherwise.
    assert out.count("flip: first") == 1 and out.count("flip: second") == 1, out
    for dynamic in ("static no -- evaluated once", "with_items makes an include dynamic",
                    "a templated file name makes an include dynamic", "an include under a dynamic include"):
        assert dynamic in out, out
    tagged = _run("include_tasks.yml", local_inventory, accelerated=True,
                  args=["--list-tasks", "--tags", "static_tag"])
    assert tagged.rc == 0, tagged.describe()
    assert "flip: first" in tagged.stdout and "static no" not in tagged.stdout, tagged.stdout


def _group_run(local_inventory: str, accelerated: bool, **env: str) -> harness.RunResult:
    inventory_dir = os.path.join(CORPUS, "inventory")
    return _run("groups_and_merge.yml", local_inventory, accelerated, args=["-i", inventory_dir],
                env=dict(env, ANSIBLE_HASH_BEHAVIOUR="merge"))


@pytest.mark.parametrize("accelerated", [True, False], ids=["ours", "vanilla"])
def test_group_names_and_hash_merge(local_inventory, accelerated):
    """Still honoured by every supported ansible-core: vanilla passes too (the day it does not, this fails)."""
    result = _group_run(local_inventory, accelerated)
    problem = harness.check_outcome(result, harness.expectations(os.path.join(CORPUS, "groups_and_merge.yml")))
    assert problem is None, "%s\n%s" % (problem, result.describe())
    assert result.totals().get("ok") == 3, result.describe()
    assert GROUP_WARNING in result.stdout + result.stderr, result.describe()


def test_group_name_warning_silenced_by_the_documented_setting(local_inventory):
    result = _group_run(local_inventory, True, ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS="ignore")
    assert result.rc == 0, result.describe()
    assert GROUP_WARNING not in result.stdout + result.stderr, result.describe()
