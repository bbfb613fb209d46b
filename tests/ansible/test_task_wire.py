"""The task wire protocol (ansible_mitogen.remote.task_wire) and the modules that speak it.

Runs on the controller: the always-fork rule, checked by name and by real
runs of the runner in a fresh interpreter (a forked module reports another
PID than the interpreter), and the compression of calls and replies.
"""
import json

import pytest

from ansible_mitogen.executor import planner
from ansible_mitogen.remote import runner, target, task_wire
from tests.ansible.test_exec_runner import PKGS, hand_bundle, in_fresh_interpreter, python_spec

# The two lists the rule replaced, as they stood in planner.py and runner.py.
OLD_PLANNER_LIST = ('dnf', 'dnf5', 'yum', 'setup', 'gather_facts', 'package_facts')
OLD_RUNNER_LIST = (
    'ansible.legacy.dnf', 'ansible.builtin.dnf', 'ansible.legacy.dnf5', 'ansible.builtin.dnf5',
    'ansible.legacy.yum', 'ansible.legacy.package_facts', 'ansible.builtin.package_facts',
    'ansible.legacy.setup', 'ansible.builtin.setup', 'ansible.legacy.gather_facts',
    'ansible.legacy.reboot', 'ansible.legacy.async_wrapper',
)
SPELLINGS = ('%s', 'ansible.builtin.%s', 'ansible.legacy.%s', 'ansible.modules.%s')


def _short_names():
    return sorted(set(OLD_PLANNER_LIST) | set(name.rsplit('.', 1)[-1] for name in OLD_RUNNER_LIST))


@pytest.mark.parametrize('short', _short_names())
def test_always_fork_rule_covers_both_old_lists_in_every_spelling(short):
    for spelling in SPELLINGS:
        assert task_wire.always_forks(spelling % short), spelling % short


def test_always_fork_rule_leaves_other_modules_in_process():
    for spelling in SPELLINGS:
        assert not task_wire.always_forks(spelling % 'command')
    assert not task_wire.always_forks('ansible.builtin.setupx')
    assert not task_wire.always_forks('')


def test_planner_and_runner_share_one_protocol_module():
    assert planner.task_wire is runner.task_wire is target.task_wire is task_wire
    for module in (planner, runner, target):
        for name in ('ALWAYS_FORK', 'ALWAYS_FORK_MODULES', 'COMPRESS_ABOVE', 'HAVE_PREFIX', 'WIRE_ZDICT'):
            assert not hasattr(module, name), (module.__name__, name)


@pytest.mark.parametrize('name', ['setup', 'ansible.builtin.dnf', 'ansible.legacy.reboot', 'async_wrapper'])
def test_planner_marks_always_fork_modules(name):
    plan = planner.plan_module(name, {}, '/nonexistent/' + name, 'old', '#!/bin/sh', b'', 'legacy', env={},
                               cwd=None, fork=False, temp_dir=None, emulate_tty=False)
    assert plan.spec()['fork'] is True
    plain = planner.plan_module('command', {}, '/nonexistent/command', 'old', '#!/bin/sh', b'', 'legacy',
                                env={}, cwd=None, fork=False, temp_dir=None, emulate_tty=False)
    assert 'fork' not in plain.spec()


def _pid_module(fqn):
    modules = dict(PKGS)
    modules[fqn] = 'import json, os, sys\nprint(json.dumps({"pid": os.getpid()}))\nsys.exit(0)\n'
    return hand_bundle(fqn, modules)


def test_runner_forks_always_fork_modules_the_planner_did_not_mark():
    # by the module file's name, and by the task's module name
    setup = _pid_module('ansible.modules.setup')
    probe = _pid_module('ansible.modules.probe')
    replies = in_fresh_interpreter([
        ('run', (python_spec(setup),)),
        ('run', (python_spec(probe, module_name='ansible.builtin.package_facts'),)),
        ('run', (python_spec(probe, module_name='ansible.builtin.command'),)),
        ('eval', 'os.getpid()'),
    ])
    forked_by_fqn, forked_by_name, in_process = [json.loads(r['stdout'])['pid'] for r in replies[:3]]
    assert in_process == replies[3]
    assert forked_by_fqn != replies[3] and forked_by_name != replies[3]


def test_packed_and_unpacked_round_trip_only_large_bytes():
    small, large = b'x' * task_wire.COMPRESS_ABOVE, b'{"a": "%s"}' % (b'y' * 1000)
    message = {task_wire.STDOUT: small, task_wire.STDERR: large, 'rc': 0}
    packed = task_wire.packed(message, task_wire.STDOUT, task_wire.STDERR)
    assert packed[task_wire.STDOUT] == small and task_wire.STDERR not in packed
    assert len(packed[task_wire.STDERR + '_z']) < 100
    assert message[task_wire.STDERR] == large  # the caller's dict is left alone
    assert task_wire.unpacked(packed, task_wire.STDOUT, task_wire.STDERR) == message
    nothing_large = {task_wire.STDOUT: small}
    assert task_wire.packed(nothing_large, task_wire.STDOUT) is nothing_large


@pytest.mark.parametrize('size', [401, 1900, 3800, 4096, 9000, 40000, 1 << 20])
def test_compress_sizes_its_window_and_compresses_as_well_as_a_full_one(size):
    """The window follows the data (a small stream must not cost zlib's
    ~400 KB of state); the preset dictionary still applies, and any size
    reads back with decompress()'s 15-bit window."""
    import random
    import zlib

    rnd = random.Random(size)
    words = [b'"changed": true', b'"rc": 0', b'line', b'/usr/bin/true', b'\n'] + \
        [bytes(rnd.randrange(97, 123) for _ in range(6)) for _ in range(200)]
    data = task_wire.WIRE_ZDICT[-300:]
    while len(data) < size:
        data += rnd.choice(words) + b' '
    data = data[:size]
    packed = task_wire.compress(data)
    assert task_wire.decompress(packed) == data
    full = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, task_wire.WIRE_ZDICT)
    assert len(packed) <= len(full.compress(data) + full.flush()) * 1.02 + 4
    # the dictionary is used: the dictionary's own tail costs next to nothing
    assert len(task_wire.compress(task_wire.WIRE_ZDICT[-500:])) < 40


def test_plan_code_packs_unless_the_chain_relays_sources():
    """A first call carries its code as one xz stream; a SourceRelayChain
    (it relays SOURCES per digest) gets manifest and sources plain."""
    from ansible_mitogen.executor.source_relay_chain import SourceRelayChain
    from tests.ansible.test_exec_runner import real_module_plan

    plan = real_module_plan('ping', {})
    claim_all = list
    packed = plan.code(claim_all, object())
    assert set(packed) == {task_wire.CODE_XZ}
    plain = plan.code(claim_all, SourceRelayChain(None, None, None))
    assert set(plain) == {task_wire.MANIFEST, task_wire.SOURCES}
    assert sorted(plain[task_wire.SOURCES]) == sorted(plan.bundle.sources)
    assert runner.unpack_code(packed[task_wire.CODE_XZ]) == [tuple(entry) for entry in plain[task_wire.MANIFEST]]
