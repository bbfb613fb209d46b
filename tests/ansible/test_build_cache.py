"""The per-process cache of built modules (ansible_mitogen/executor/build_cache.py).

Controller-side.  In-process: for the real `command` module, what the cache
serves after the first build equals what ansible-core's modify_module (and
the planner's parse of its wrapper) gives, for several interpreters,
arguments and `_ansible_*` settings, and it no longer calls modify_module;
interpreter discovery is still asked for.  Real runs: one playbook under
vanilla `linear` and `mitogen_linear`, three hosts (one target) that differ
in ansible_python_interpreter (a path, discovery, another path), the same
module with other arguments per host, check mode per task, and a playbook
module rewritten between tasks (Python, then a WANT_JSON script, then
Python with another interpreter line): every result matches vanilla's.
"""
import os
import re
import shutil

import pytest

from tests.ansible import harness
from tests.ansible.test_parity import _normalized, results

pytest.importorskip("ansible.executor.module_common", reason="ansible-core is needed")

PYTHON_V1 = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
m = AnsibleModule(argument_spec=dict(x=dict()), supports_check_mode=True)
m.exit_json(version=1, x=m.params['x'], check=m.check_mode)
"""
WANT_JSON = """#!/bin/sh
# WANT_JSON
echo '{"version": "script", "args": "'"$(wc -c < "$1")"'"}'
"""
PYTHON_3 = """#!/usr/bin/python3
from ansible.module_utils.basic import AnsibleModule
m = AnsibleModule(argument_spec=dict(x=dict()), supports_check_mode=True)
m.exit_json(version=3, x=m.params['x'], check=m.check_mode)
"""

PLAYBOOK = """
- hosts: cache_hosts
  gather_facts: false
  tasks:
    - name: module, args per host
      cachemod: {x: "{{ inventory_hostname }}"}
    - name: module again, check mode
      cachemod: {x: "again {{ inventory_hostname }}"}
      check_mode: true
    - name: command per host
      command: echo {{ inventory_hostname }} {{ ansible_python_interpreter | default('auto') }}
    - name: rewrite as WANT_JSON
      copy: {src: want_json.src, dest: "{{ playbook_dir }}/library/cachemod.py"}
      delegate_to: localhost
      run_once: true
    - name: script
      cachemod: {x: "{{ inventory_hostname }}"}
    - name: rewrite as Python, another interpreter line
      copy: {src: python_3.src, dest: "{{ playbook_dir }}/library/cachemod.py"}
      delegate_to: localhost
      run_once: true
    - name: module after the rewrites
      cachemod: {x: "last {{ inventory_hostname }}"}
    - name: command at the end
      command: echo {{ inventory_hostname }} end
"""


def _inventory(testbed_inventory: str, path) -> str:
    """Three hosts on the first target of the session's bed."""
    with open(testbed_inventory) as fp:
        line = next(ln for ln in fp if "ansible_host=" in ln)
    common = re.sub(r" ansible_python_interpreter=\S+", "", line.strip()).split(" ", 1)[1]
    path.write_text("\n".join([
        "[cache_hosts]",
        "explicit %s ansible_python_interpreter=/usr/bin/python3" % common,
        "discovered %s" % common,
        "versioned %s ansible_python_interpreter=/usr/bin/python3.11" % common,
        "",
    ]))
    return str(path)


@pytest.mark.timeout(300)
def test_cached_builds_match_vanilla_in_a_real_run(inventory, tmp_path):
    inv = _inventory(inventory, tmp_path / "hosts.ini")
    runs = []
    for strategy in (harness.VANILLA, harness.MITOGEN):
        play_dir = tmp_path / "play"  # the same paths in both results
        os.makedirs(play_dir / "library")
        (play_dir / "library" / "cachemod.py").write_text(PYTHON_V1)
        (play_dir / "play.yml").write_text(PLAYBOOK)
        (play_dir / "want_json.src").write_text(WANT_JSON)
        (play_dir / "python_3.src").write_text(PYTHON_3)
        runs.append(results(str(play_dir / "play.yml"), inv, strategy, tmp_path))
        shutil.rmtree(play_dir)
    vanilla, ours = (sorted(rows, key=lambda row: row[:2]) for rows in runs)
    assert [row[:3] for row in ours] == [row[:3] for row in vanilla]
    assert len(vanilla) == 3 * 6 + 2
    for (host, task, _, want), (_, _, _, got) in zip(vanilla, ours):
        assert _normalized(got) == _normalized(want), (host, task)
    by = {(row[0], row[1]): row[3] for row in ours}
    # what the cases are about actually happened
    assert by[("explicit", "module, args per host")]["x"] == "explicit"
    assert by[("versioned", "module again, check mode")]["check"] is True
    assert "discovered_interpreter_python" in by[("discovered", "module, args per host")]["ansible_facts"]
    assert by[("explicit", "script")]["version"] == "script"
    # ansible-core keeps a module's first zip for the run: the Python
    # module after the rewrites still runs its first code, under both
    assert by[("explicit", "module after the rewrites")]["version"] == 1


# -- in-process: the cache against modify_module ---------------------------------

@pytest.fixture()
def build_env(monkeypatch):
    from ansible.executor import module_common

    if not hasattr(module_common, "_BuiltModule"):
        pytest.skip("ansible-core < 2.19 builds without the cache")
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader, module_loader
    from ansible.template import Templar

    from ansible_mitogen.executor import build_cache

    if not module_loader._searched_paths:
        init_plugin_loader()
    build_cache.install()
    build_cache.clear()
    calls = []
    vanilla = build_cache._vanilla
    monkeypatch.setattr(build_cache, "_vanilla", lambda **kw: calls.append(kw) or vanilla(**kw))
    path = module_loader.find_plugin_with_context("ansible.legacy.command").plugin_resolved_path
    yield build_cache, vanilla, path, Templar(loader=DataLoader()), calls
    build_cache.clear()


def _kwargs(path, templar, args, task_vars):
    return dict(module_name="ansible.legacy.command", module_path=path, module_args=args, templar=templar,
                task_vars=task_vars, module_compression="ZIP_STORED")


def _served(build_cache, path, kwargs):
    import ansible.plugins.action as action

    with build_cache.building() as build:
        bits = action.modify_module(**kwargs)
    return build_cache.built(build, (bits, path))[0]


TASK_VARS = [
    {"ansible_python_interpreter": "/usr/bin/python3"},
    {"ansible_python_interpreter": "/opt/other/python3.12"},
    {"ansible_facts": {"discovered_interpreter_python": "/usr/libexec/platform-python"}},
]
ARGS = [
    {"_raw_params": "/bin/true", "_ansible_check_mode": False, "_ansible_diff": False},
    {"_raw_params": "echo \udcff", "argv": ["a", 1], "_ansible_check_mode": True, "_ansible_verbosity": 3},
]


def test_served_builds_equal_vanilla_and_skip_modify_module(build_env):
    from ansible_mitogen.executor import module_finder

    build_cache, vanilla, path, templar, calls = build_env
    for task_vars in TASK_VARS:
        for args in ARGS:
            got = _served(build_cache, path, _kwargs(path, templar, args, task_vars))
            want = vanilla(**_kwargs(path, templar, args, task_vars))
            payload = module_finder.parse_ansiballz(want.b_module_data)
            assert (got.style, got.shebang, got.profile) == (
                want.module_style, want.shebang, want.serialization_profile)
            assert (got.payload.fqn, got.payload.profile, got.payload.json_params, got.payload.bundle_id) == (
                payload.fqn, payload.profile, payload.json_params, payload.bundle_id)
            assert got.payload.bundle() == payload.bundle()
    assert len(calls) == 1  # the first build only
    assert build_cache.stats()["entries"] == 1


def test_discovery_is_still_required_per_host(build_env):
    from ansible.executor.interpreter_discovery import InterpreterDiscoveryRequiredError

    build_cache, _, path, templar, calls = build_env
    _served(build_cache, path, _kwargs(path, templar, ARGS[0], TASK_VARS[0]))
    with pytest.raises(InterpreterDiscoveryRequiredError):
        _served(build_cache, path, _kwargs(path, templar, ARGS[0], {"ansible_facts": {}}))
    assert len(calls) == 1


def test_edited_module_file_is_built_afresh(build_env, tmp_path):
    build_cache, _, _, templar, calls = build_env
    path = tmp_path / "mod.py"
    path.write_text(PYTHON_V1)
    kwargs = dict(_kwargs(str(path), templar, {"x": 1}, TASK_VARS[0]), module_name="mod")
    first = _served(build_cache, str(path), kwargs)
    path.write_text(WANT_JSON)
    os.utime(path, ns=(0, os.stat(path).st_mtime_ns + 10 ** 9))
    second = _served(build_cache, str(path), kwargs)
    assert (first.style, second.style) == ("new", "non_native_want_json")
    assert second.payload is None and second.data.startswith(b"#!/bin/sh")
    assert len(calls) == 2
