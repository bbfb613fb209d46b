"""Runs DebOps' common.yml against test-bed targets under a given strategy.

Controller side; used by tests/debops/test_debops.py, the reference
regeneration (`python -m tests.debops.debops_run reference`) and
bench/bench_debops.py.  Builds on tests/ansible/harness.py, adding the
collections path, DebOps' inventory (group `debops_all_hosts` plus the
container-only switches in inventory/group_vars) and recap (de)serialisation.
"""
import json
import os
import pwd
import re
import sys
from typing import Any, Dict, List, Optional, Sequence

from tests.ansible import harness
from tests.debops import collection_cache

HERE = os.path.dirname(os.path.abspath(__file__))
INVENTORY_DIR = os.path.join(HERE, "inventory")
REFERENCE_DIR = os.path.join(HERE, "reference")
PASSES = ("first", "second")

_TASK_HEADER = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.*)\] \**$")
_HOST_OUTCOME = re.compile(r"^(changed|failed|fatal): \[[^\]]+\]")


def playbook() -> str:
    """common.yml of the installed debops.debops collection."""
    root = collection_cache.debops_collections_path()
    return os.path.join(root, "ansible_collections", "debops", "debops", "playbooks", "common.yml")


def environment_extra(secret_root: str, forks: int = 10) -> Dict[str, str]:
    paths = (collection_cache.collections_path(), collection_cache.debops_collections_path())
    return {
        "DEBOPS_TEST_SECRET_ROOT": secret_root,
        # system_users compares its "self" account with $USER, which CI may lack.
        "USER": pwd.getpwuid(os.getuid()).pw_name,
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(paths),
        "ANSIBLE_FORKS": str(forks),
        "ANSIBLE_TIMEOUT": "30",
    }


def run_common(inventory: str, strategy: str, secret_root: str, forks: int = 10,
               args: Sequence[str] = (), timeout: float = 1200) -> harness.RunResult:
    """One ansible-playbook run of common.yml on every host of `inventory`.

    `secret_root` is DebOps' controller-side state (passwords, DH params);
    a second run must get the first run's directory.
    """
    os.makedirs(secret_root, exist_ok=True)
    return harness.run_playbook(
        playbook(), INVENTORY_DIR, strategy=strategy,
        args=["-i", inventory] + list(args), env=environment_extra(secret_root, forks), timeout=timeout,
    )


def host_neutral(result: harness.RunResult) -> Dict[str, int]:
    """The recap of a one-target run, independent of the target's name."""
    if len(result.recap) != 1:
        raise ValueError("expected one host in the recap, got %r" % (result.recap,))
    return dict(next(iter(result.recap.values())))


def tasks_with(stdout: str, outcome: str) -> List[str]:
    """Names of the tasks (in order, once each) where some host or item reported `outcome`.

    A recap counts tasks; when two engines' recaps differ, these lists say
    which tasks differ.  `failed` covers Ansible's "fatal:" lines too.
    """
    names: List[str] = []
    task = None
    for line in stdout.splitlines():
        header = _TASK_HEADER.match(line)
        if header:
            task = header.group(1)
            continue
        match = _HOST_OUTCOME.match(line)
        if match and task is not None:
            kind = "failed" if match.group(1) == "fatal" else match.group(1)
            if kind == outcome and (not names or names[-1] != task):
                names.append(task)
    return names


def reference_path(which: str) -> str:
    return os.path.join(REFERENCE_DIR, "common-%s.json" % which)


def load_reference_doc(which: str) -> Optional[Dict[str, Any]]:
    """The stored vanilla run: recap, changed_tasks, seconds; None if not generated yet."""
    try:
        with open(reference_path(which)) as fp:
            return json.load(fp)
    except FileNotFoundError:
        return None


def load_reference(which: str) -> Optional[Dict[str, int]]:
    doc = load_reference_doc(which)
    return None if doc is None else doc["recap"]


def save_reference(which: str, recap: Dict[str, int], seconds: float, stdout: str) -> None:
    os.makedirs(REFERENCE_DIR, exist_ok=True)
    doc = {"engine": harness.VANILLA, "pass": which, "recap": recap, "seconds": round(seconds, 1),
           "changed_tasks": tasks_with(stdout, "changed")}
    with open(reference_path(which), "w") as fp:
        json.dump(doc, fp, indent=2, sort_keys=True)
        fp.write("\n")


def regenerate_reference() -> int:
    """Vanilla first and second run on one fresh target, stored under reference/."""
    from tests.debops import image

    with image.up(1) as tb:
        for which in PASSES:
            result = run_common(tb.inventory, harness.VANILLA, os.path.join(tb.workdir, "secret"))
            print("%s run: %s in %.0f s" % (which, result.recap, result.seconds))
            if result.rc != 0:
                print(result.describe(), file=sys.stderr)
                return 1
            save_reference(which, host_neutral(result), result.seconds, result.stdout)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["reference"]:
        sys.exit("usage: python -m tests.debops.debops_run reference")
    sys.exit(regenerate_reference())
