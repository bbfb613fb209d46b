"""The vars-plugin entry point: builtin strategies, accelerated, no strategy plugin.

Controller-side.  `accel.mitogen.accelerate` in vars_plugins_enabled must
make the builtin linear / free / host_pinned strategies run exactly like
our strategy plugins, and print no deprecation warning.  The proof runs
the whole playbook suite with a throwaway copy of ansible-core patched so
that loading any strategy that is not builtin raises: every playbook must
give the same PLAY RECAP and the same round trips per task
($MITOGEN_EXEC_TRACE) as under `mitogen_linear` (in the CI lane of the newest ansible-core:
it costs twice the suite's time).
"""
import collections
import os
import shutil
from typing import Dict, Tuple

import ansible
import ansible.release
import pytest

from ansible_mitogen import support
from tests.ansible import harness

VARS_ENABLED = "host_group_vars,accel.mitogen.accelerate"
PATCH_AT = "    def get(self, name, *args, **kwargs):\n"
PATCH = PATCH_AT + (
    "        if self.class_name == 'StrategyModule':\n"
    "            _found = self.get_with_context(name, class_only=True, collection_list=kwargs.get('collection_list'))\n"
    "            if _found[1].plugin_resolved_collection != 'ansible.builtin':\n"
    "                raise AssertionError('test patch: non-builtin strategy %r was loaded' % (name,))\n"
)
DEPRECATION = "DEPRECATION WARNING"
# Tasks whose number of calls follows the clock (polling an async job until
# it ends): the same calls must be made, not the same number of them.
POLLING_TASKS = {"exec_async.yml": {"async_status", "wait with async_status"}}


@pytest.fixture(scope="module")
def builtin_only_ansible(tmp_path_factory) -> str:
    """A PYTHONPATH entry holding a copy of ansible-core that refuses third-party strategies."""
    root = tmp_path_factory.mktemp("builtin-only")
    copy = root / "ansible"
    shutil.copytree(os.path.dirname(ansible.__file__), str(copy),
                    ignore=shutil.ignore_patterns("__pycache__"))
    loader = copy / "plugins" / "loader.py"
    text = loader.read_text()
    assert text.count(PATCH_AT) == 1, "PluginLoader.get not found in %s" % loader
    loader.write_text(text.replace(PATCH_AT, PATCH))
    return str(root)


def _env(pythonpath: str = "", **extra: str) -> Dict[str, str]:
    env = {"ANSIBLE_DEPRECATION_WARNINGS": "True"}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join((pythonpath, harness.REPO_ROOT))
    env.update(extra)
    return env


def _traced(name: str, inventory: str, strategy: str, env: Dict[str, str], trace: str
            ) -> Tuple[harness.RunResult, Dict[str, collections.Counter]]:
    if os.path.exists(trace):
        os.unlink(trace)
    result = harness.run_playbook(name, inventory, strategy=strategy, env=dict(env, MITOGEN_EXEC_TRACE=trace))
    per_task: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    if os.path.exists(trace):
        with open(trace) as fp:
            for line in fp:
                task, kind, func = line.rstrip("\n").split("\t")[:3]
                per_task[task][kind + " " + func] += 1
    return result, dict(per_task)


def test_patched_copy_refuses_our_strategy_plugin(builtin_only_ansible, inventory):
    """The proof below is only worth something if the patch bites."""
    result = harness.run_playbook("connection_trivial.yml", inventory, strategy=harness.MITOGEN,
                                  env=_env(builtin_only_ansible))
    assert result.rc != 0 and "non-builtin strategy" in result.stdout + result.stderr, result.describe()


@pytest.mark.parametrize("builtin", ["linear", "free", "host_pinned"])
def test_vars_plugin_accelerates_builtin_strategy(builtin, builtin_only_ansible, inventory, tmp_path):
    env = _env(builtin_only_ansible, ANSIBLE_VARS_ENABLED=VARS_ENABLED)
    result, calls = _traced("_exec_round_trips.yml", inventory, builtin, env, str(tmp_path / "t"))
    assert result.rc == 0, result.describe()
    assert calls.get("simple 1"), "no call went through our execution path: %r" % calls
    assert DEPRECATION not in result.stdout + result.stderr, result.describe()
    ours, our_calls = _traced("_exec_round_trips.yml", inventory, "mitogen_" + builtin, _env(),
                              str(tmp_path / "t"))
    assert ours.rc == 0, ours.describe()
    assert calls == our_calls
    assert result.recap == ours.recap


def test_strategy_plugin_still_warns_like_before(inventory):
    """Our strategy plugins stay; on ansible-core >= 2.19 they carry its third-party warning."""
    result = harness.run_playbook("connection_trivial.yml", inventory, strategy=harness.MITOGEN, env=_env())
    assert result.rc == 0, result.describe()
    if support.parse(ansible.release.__version__) >= (2, 19):
        assert DEPRECATION in result.stdout + result.stderr


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", harness.list_playbooks())
def test_playbook_suite_without_strategy_plugins(name, builtin_only_ansible, inventory, tmp_path):
    if support.parse(ansible.release.__version__) != support.NEWEST:
        # Twice the suite's time: run where it matters most, in the CI lane
        # of the newest release; the tests above cover every lane.
        pytest.skip("the full-suite proof runs under ansible-core %d.%d (the second CI lane)" % support.NEWEST)
    trace = str(tmp_path / "trace.tsv")
    ours, our_calls = _traced(name, inventory, harness.MITOGEN, {}, trace)
    env = _env(builtin_only_ansible, ANSIBLE_VARS_ENABLED=VARS_ENABLED, ANSIBLE_DEPRECATION_WARNINGS="False")
    plain, plain_calls = _traced(name, inventory, harness.VANILLA, env, trace)
    problem = harness.check_outcome(plain, harness.expectations(name))
    assert problem is None, "%s via the vars plugin: %s\n%s" % (name, problem, plain.describe())
    assert plain.recap == ours.recap, "recap differs:\nstrategy plugin %r\nvars plugin %r\n%s" % (
        ours.recap, plain.recap, plain.describe())
    for task in POLLING_TASKS.get(name, ()):
        for calls in (plain_calls, our_calls):
            if task in calls:
                calls[task] = collections.Counter(set(calls[task]))
    assert plain_calls == our_calls, "round trips differ:\nstrategy plugin %r\nvars plugin %r" % (
        our_calls, plain_calls)
