"""Controller speedups (ansible_mitogen.controller.speedups, plugin_warmup) keep results intact.

Controller-side.  deepcopy with speedups installed must still give a
faithful, independent copy; the strategy process's heap is frozen once the
play starts (its executor threads see it), and task workers that still fork
(MITOGEN_EXECUTOR=fork) freeze what they inherit; and later workers must inherit plugins an earlier one loaded.
Playbook runs use the test bed (`inventory` fixture); results of
templating_lookups.yml under both engines are compared by test_playbooks.
"""
import copy
import datetime
import gc
import os
import re
import time

import pytest

from ansible_mitogen.controller import speedups
from tests.ansible import harness

PLAYBOOK = "templating_lookups.yml"
TASKS_USING_THE_LOOKUP = 3


def test_deepcopy_shares_immutable_values_and_copies_containers():
    tags = pytest.importorskip("ansible._internal._datatag._tags")
    speedups.install()
    origin = tags.Origin(path="/vars.yml", line_num=3, col_num=1)
    text = origin.tag("value")
    number = origin.tag(42)
    when = origin.tag(datetime.date(2026, 11, 27))
    nested = origin.tag([origin.tag("a"), {"k": origin.tag("b")}])
    variables = {"text": text, "number": number, "when": when, "nested": nested}

    copied = copy.deepcopy(variables)  # vanilla's template lookup does this per template

    assert copied == variables
    assert copied["text"] is text and copied["number"] is number and copied["when"] is when
    assert tags.Origin.get_tag(copied["text"]) == origin
    # containers are still fresh, with their tags, so mutating them cannot leak
    assert copied["nested"] is not nested and copied["nested"][1] is not nested[1]
    assert type(copied["nested"]) is type(nested) and tags.Origin.get_tag(copied["nested"]) == origin
    copied["nested"][1]["k"] = "changed"
    assert nested[1]["k"] == "b"


def test_every_registered_type_is_immutable():
    for cls in speedups.immutable_types():
        assert not issubclass(cls, (list, dict, set, bytearray)), cls


def _imports(strategy: str, inventory: str, tmp_path) -> tuple:
    log = tmp_path / ("imports-%s.log" % strategy)
    result = harness.run_playbook(PLAYBOOK, inventory, strategy=strategy, env={"IMPORT_WITNESS_LOG": str(log)})
    assert harness.check_outcome(result, {}) is None, result.describe()
    return log.read_text().split(), len(result.recap)


@pytest.mark.timeout(300)
def test_later_workers_inherit_loaded_plugins(inventory, tmp_path):
    vanilla, hosts = _imports(harness.VANILLA, inventory, tmp_path)
    ours, _ = _imports(harness.MITOGEN, inventory, tmp_path)
    assert len(vanilla) == TASKS_USING_THE_LOOKUP * hosts
    assert len(ours) <= hosts + 1, ours
    assert len(set(ours)) == len(ours)  # each import in its own process


def _forked_freeze_count() -> int:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if not pid:
        os.write(write_fd, str(gc.get_freeze_count()).encode())
        os._exit(0)
    os.close(write_fd)
    os.waitpid(pid, 0)
    with os.fdopen(read_fd) as fp:
        return int(fp.read())


def test_heap_frozen_in_the_child_of_the_fork_only():
    before = gc.get_freeze_count()
    with speedups.heap_frozen_for_fork():
        inherited = _forked_freeze_count()
    assert inherited > before + 10000  # what this process had: frozen in the child
    assert gc.get_freeze_count() == before  # this process's generations are untouched
    assert _forked_freeze_count() == before  # a fork outside the context freezes nothing


@pytest.mark.timeout(300)
@pytest.mark.parametrize("strategy", [harness.VANILLA, harness.MITOGEN])
def test_task_worker_inherits_a_frozen_heap(strategy, inventory):
    # Under ours, tasks that still fork a worker (the engine runs the rest on threads).
    env = {"MITOGEN_EXECUTOR": "fork"} if strategy == harness.MITOGEN else {}
    result = harness.run_playbook("_worker_heap.yml", inventory, strategy=strategy, env=env)
    assert result.rc == 0, result.describe()
    frozen = [int(n) for n in re.findall(r"frozen=\[?(\d+)", result.stdout)]
    assert frozen, result.describe()
    if strategy == harness.VANILLA:
        assert frozen == [0] * len(frozen)
    else:  # ansible-core's own modules alone are >10k objects
        assert min(frozen) > 10000, frozen


@pytest.mark.timeout(300)
def test_strategy_heap_frozen_for_executor_threads(inventory):
    # The lookup runs on an executor thread of the strategy process: it
    # reports that process's permanent generation, frozen when the play began.
    result = harness.run_playbook("_worker_heap.yml", inventory, strategy=harness.MITOGEN)
    assert result.rc == 0, result.describe()
    frozen = [int(n) for n in re.findall(r"frozen=\[?(\d+)", result.stdout)]
    assert frozen and min(frozen) > 10000, result.describe()


def test_connection_plugin_list_follows_its_directories(tmp_path):
    """clean_facts' list of connection plugin files is kept only while no
    plugin directory changed: a file added or removed shows at once."""
    from ansible.plugins.loader import PluginLoader, init_plugin_loader

    init_plugin_loader()
    plugins = tmp_path / "connection_plugins"
    plugins.mkdir()
    (plugins / "alpha.py").write_text("")
    loader = PluginLoader("Connection", "ansible.plugins.connection", str(plugins), "connection_plugins")
    listing = speedups.PluginPathsOnce(loader)

    long_ago = time.time_ns() - 5 * speedups.RACY_NS

    def aged(seconds: int) -> None:  # older than the racy window: the listing may be kept
        stamp = long_ago - seconds * 10**9
        os.utime(plugins, ns=(stamp, stamp))

    aged(0)
    first = list(listing.all(path_only=True))
    assert first == list(loader.all(path_only=True))
    assert str(plugins / "alpha.py") in first and any(p.endswith("/ssh.py") for p in first)
    kept = listing._listed
    assert list(listing.all(path_only=True)) == first and listing._listed is kept

    (plugins / "beta.py").write_text("")  # the directory's mtime moves: listed again
    assert str(plugins / "beta.py") in list(listing.all(path_only=True))
    recent = listing._listed
    listing.all(path_only=True)
    assert listing._listed is not recent  # modified just now: listed every time

    (plugins / "alpha.py").unlink()
    aged(1)  # not what it was when listed
    assert list(listing.all(path_only=True)) == list(loader.all(path_only=True))
    assert str(plugins / "alpha.py") not in list(listing.all(path_only=True))
