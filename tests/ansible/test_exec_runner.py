"""Target-side runners, exercised in real, fresh Python interpreters.

Runs on the controller: each test starts a clean interpreter (no Ansible
imported, like a target) that imports ``ansible_mitogen.remote.runner`` and runs a
list of specs in order, so persistence across tasks is tested too.  Real
ansible-core modules are prepared by ``module_common.modify_module`` and
planned by ``ansible_mitogen.executor.planner``, as the action mixin does.
"""
import json
import glob
import os
import pickle
import resource
import signal
import subprocess
import sys
import textwrap
import time

import ansible.release
import pytest

from ansible_mitogen import support
from ansible_mitogen.executor import module_finder, planner
from ansible_mitogen.remote import task_wire
from tests import versions

# ansible-core >= 2.21 returns `invocation` only when INJECT_INVOCATION asks for it.
INVOCATION_BY_DEFAULT = support.parse(ansible.release.__version__) < (2, 21)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DRIVER = textwrap.dedent('''
    import os, pickle, sys
    from ansible_mitogen.remote import runner
    calls = pickle.load(sys.stdin.buffer)
    out = []
    for func, arg in calls:
        if func == 'eval':
            out.append(eval(arg))
        else:
            out.append(getattr(runner, func)(*arg))
    sys.stdout.buffer.write(pickle.dumps(out))
''')


def in_fresh_interpreter(calls, python=sys.executable):
    """Run [(runner_function, args) | ('eval', expr)] in one clean interpreter."""
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    proc = subprocess.run([python, '-c', DRIVER], input=pickle.dumps(calls),
                          capture_output=True, env=env, timeout=60, cwd='/')
    assert proc.returncode == 0, proc.stderr.decode()
    return pickle.loads(proc.stdout)


# Debian ships no 3.8; this machine kind has a pyenv build of it.
PYTHON38 = next(iter(sorted(glob.glob('/root/.pyenv/versions/3.8*/bin/python3.8'))
                     + [p for p in ['/usr/bin/python3.8'] if os.path.exists(p)]), None)
# Every target Python found here that this ansible-core supports (3.8 ...
# 3.13 as pyenv builds): the state snapshot relies on CPython details
# (runner.GlobalState) checked on each, and how programs start differs.
def _python_id(path):
    return path.split('/versions/')[-1].split('/')[0] if '/versions/' in path else path


TARGET_PYTHONS = [path for _, path in sorted(versions.target_pythons(
    support.parse(ansible.release.__version__)).items())] or [sys.executable]


def hand_bundle(fqn, modules):
    """A bundle from {fullname: source}, without Ansible."""
    manifest, sources = [], {}
    for name, source in modules.items():
        data = textwrap.dedent(source).encode()
        digest = module_finder.digest_of(data)
        sources[digest] = data
        is_pkg = any(other.startswith(name + '.') for other in modules)
        manifest.append((name, digest, is_pkg))
    manifest.sort()
    bundle_id = module_finder.digest_of(repr(manifest).encode())
    return module_finder.ModuleBundle(fqn, bundle_id, manifest, sources)


def python_spec(bundle, params=b'{}', **extra):
    spec = dict(kind='python', fqn=bundle.fqn, bundle=bundle.bundle_id, json_params=params,
                manifest=bundle.manifest, sources=bundle.sources, profile='legacy')
    spec.update(extra)
    return spec


PKGS = {'ansible': '', 'ansible.modules': ''}


def probe_module(body):
    modules = dict(PKGS)
    modules['ansible.modules.probe'] = 'import json, os, sys\n' + textwrap.dedent(body) + '\nsys.exit(0)\n'
    return hand_bundle('ansible.modules.probe', modules)


def real_module_plan(name, args, module_path=None, task_vars=None):
    """Plan a real module exactly as the mixin does (modify_module + planner)."""
    from ansible.executor.module_common import modify_module
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader, module_loader
    from ansible.template import Templar

    if not module_loader._searched_paths:
        init_plugin_loader()
    path = module_path or module_loader.find_plugin(name)
    built = modify_module(module_name=name, module_path=path, module_args=args,
                          templar=Templar(loader=DataLoader()),
                          task_vars=task_vars or {'ansible_python_interpreter': sys.executable})
    return planner.plan_module(name, args, path, built.module_style, built.shebang, built.b_module_data,
                               built.serialization_profile, env={}, cwd=None, fork=False,
                               temp_dir=None, emulate_tty=False)


def result_json(reply):
    text = reply['stdout'].decode()
    return json.loads(text[text.index('{'):])


def test_real_command_module_runs_in_process_and_caches():
    plan = real_module_plan('command', {'_raw_params': 'echo hi'})
    assert plan.kind == 'python'
    first = plan.answer({'need': list(plan.bundle.sources)})
    second = plan.spec()
    t0 = time.monotonic()
    replies = in_fresh_interpreter([('run', (first,)), ('run', (second,)),
                                    ('eval', "sorted(m for m in sys.modules if m.startswith('ansible'))")])
    assert time.monotonic() - t0 < 30
    for reply in replies[:2]:
        assert reply['rc'] == 0, reply
        data = result_json(reply)
        assert data['stdout'] == 'hi' and data['rc'] == 0 and data['changed'] is True
        if INVOCATION_BY_DEFAULT:
            assert data['invocation']['module_args']['_raw_params'] == 'echo hi'
    assert 'ansible.module_utils.basic' in replies[2]


def test_need_protocol_asks_for_manifest_then_missing_sources_only():
    plan = real_module_plan('ping', {})
    spec = plan.spec()
    assert 'manifest' not in spec and 'sources' not in spec
    need_manifest, = in_fresh_interpreter([('run', (spec,))])
    assert need_manifest == {'need': 'manifest', 'have': []}
    # a manifest without sources makes the target list what it lacks
    need_sources, = in_fresh_interpreter([('run', (dict(spec, manifest=plan.bundle.manifest),))])
    assert sorted(need_sources['need']) == sorted(plan.bundle.sources)
    # the usual path: the answer to 'need manifest' carries the sources too
    first = plan.answer(need_manifest)
    assert sorted(first['sources']) == sorted(plan.bundle.sources)
    reply, again, = in_fresh_interpreter([('run', (first,)), ('run', (spec,))])
    assert result_json(reply)['ping'] == 'pong'
    assert result_json(again)['ping'] == 'pong'


def test_new_module_sends_only_its_own_sources():
    ping, command = real_module_plan('ping', {}), real_module_plan('command', {'_raw_params': 'true'})
    ping_call = ping.answer({'need': 'manifest', 'have': []})
    replies = in_fresh_interpreter([('run', (ping_call,)), ('run', (command.spec(),))])
    assert replies[0]['rc'] == 0 and replies[1]['need'] == 'manifest'
    second = command.answer(replies[1])
    shared = set(ping.bundle.sources) & set(command.bundle.sources)
    assert shared and not shared & set(second['sources'])
    assert set(second['sources']) == set(command.bundle.sources) - shared
    # with the interpreter state rebuilt, the second call runs the module
    out = in_fresh_interpreter([('run', (ping_call,)), ('run', (second,))])[1]
    assert result_json(out)['rc'] == 0


def test_failing_real_module_reports_like_vanilla():
    plan = real_module_plan('command', {'_raw_params': '/nonexistent/binary'})
    reply, = in_fresh_interpreter([('run', (plan.answer({'need': list(plan.bundle.sources)}),))])
    assert reply['rc'] == 1
    data = result_json(reply)
    assert data['failed'] is True and '/nonexistent/binary' in str(data['cmd']) and data['msg']


def test_exit_codes_and_output_streams():
    replies = in_fresh_interpreter([
        ('run', (python_spec(probe_module('print("out"); sys.stderr.write("err"); sys.exit(3)')),)),
        ('run', (python_spec(probe_module('print("x"); sys.exit("bye")')),)),
        ('run', (python_spec(probe_module('raise ValueError("boom")')),)),
        ('run', (python_spec(probe_module('print(json.dumps({"a": sys.stdin.read()}))')),
                 )),
    ])
    assert replies[0] == {'rc': 3, 'stdout': b'out\n', 'stderr': b'err'}
    assert replies[1]['rc'] == 1 and replies[1]['stderr'] == b'bye\n'
    assert replies[2]['rc'] == 1 and b'ValueError: boom' in replies[2]['stderr']
    assert replies[3]['rc'] == 0 and json.loads(replies[3]['stdout'])['a'] == '{}'


@pytest.mark.parametrize('python', TARGET_PYTHONS, ids=_python_id)
def test_global_state_is_restored_between_runs(python):
    messy = probe_module('''
        import signal
        os.environ['LEAK'] = '1'
        os.environ.pop('HOME', None)
        os.chdir('/tmp')
        os.umask(0o077)
        sys.path.append('/leak')
        sys.argv.append('--leak')
        signal.signal(signal.SIGTERM, lambda *a: None)
        import resource
        print(json.dumps({'env': os.environ.get('TASK_ENV'), 'cwd': os.getcwd(),
                          'nofile': resource.getrlimit(resource.RLIMIT_NOFILE)[0]}))
        sys.exit(0)
    ''')
    report = probe_module('''
        import resource, signal
        mask = os.umask(0); os.umask(mask)
        print(json.dumps({'leak': os.environ.get('LEAK'), 'home': 'HOME' in os.environ,
                          'cwd': os.getcwd(), 'umask': mask, 'path': '/leak' in sys.path,
                          'argv': sys.argv[1:], 'term': signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
                          'nofile': resource.getrlimit(resource.RLIMIT_NOFILE)[0]}))
    ''')
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # what the fresh interpreter inherits
    replies = in_fresh_interpreter([
        ('run', (python_spec(messy, env={'TASK_ENV': 'yes'}, cwd='/usr', rlimit_nofile=200),)),
        ('run', (python_spec(report),)),
    ], python)
    assert json.loads(replies[0]['stdout']) == {'env': 'yes', 'cwd': '/tmp', 'nofile': min(200, hard)}
    after = json.loads(replies[1]['stdout'])
    assert after == {'leak': None, 'home': True, 'cwd': '/', 'umask': 0o022, 'path': False,
                     'argv': [], 'term': True, 'nofile': soft}


@pytest.mark.parametrize('python', TARGET_PYTHONS, ids=_python_id)
def test_state_set_once_per_interpreter_does_not_leak_into_the_next_module(python):
    """What a module changes in the persistent interpreter, the next one
    does not see: it starts from the state a fresh interpreter (vanilla's)
    has, although the snapshot is taken cheaply and restored only when
    something changed."""
    report = probe_module('''
        import locale, signal, socket
        print(json.dumps({'locale': locale.setlocale(locale.LC_ALL), 'leak': os.environ.get('LEAK'),
                          'path': os.environ.get('PATH'), 'timeout': socket.getdefaulttimeout(),
                          'cwd': os.getcwd(), 'argv': sys.argv[1:], 'syspath': '/leak' in sys.path,
                          'pipe': signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN}))
    ''')
    messy = probe_module('''
        import locale, signal, socket
        locale.setlocale(locale.LC_ALL, 'C.UTF-8')
        locale.setlocale(locale.LC_NUMERIC, 'C.UTF-8')
        os.environ['LEAK'] = 'x'
        os.environ['PATH'] = '/leak'
        socket.setdefaulttimeout(3)
        os.chdir('/tmp')
        sys.argv.append('--leak')
        sys.path.append('/leak')
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        print(json.dumps({'locale': locale.setlocale(locale.LC_NUMERIC)}))
    ''')
    replies = in_fresh_interpreter([
        ('eval', "__import__('signal').signal(__import__('signal').SIGPIPE, __import__('signal').SIG_IGN) and None"),
        ('run', (python_spec(report),)),
        ('run', (python_spec(messy),)),
        ('run', (python_spec(report),)),
        ('eval', "__import__('subprocess').run(['sh', '-c', 'echo ${LEAK:-none}'], capture_output=True).stdout"),
    ], python)
    fresh, changed, after = (json.loads(r['stdout']) for r in replies[1:4])
    assert changed == {'locale': 'C.UTF-8'}
    assert fresh['locale'] != 'C.UTF-8' and fresh['timeout'] is None and fresh['pipe']
    assert after == fresh
    assert replies[4] == b'none\n'  # the process environment, not only os.environ


CHILDREN_MODULE = os.path.join(REPO_ROOT, 'tests', 'ansible', 'playbooks', 'library', 'parity_children.py')
IGNORE_SIGINT = ('eval', "__import__('signal').signal(2, __import__('signal').SIG_IGN) and None")


def _ansiballz_run(name, args, module_path, python):
    """The module as vanilla runs it: its AnsiballZ wrapper in a new interpreter."""
    from ansible.executor.module_common import modify_module
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    real_module_plan(name, args, module_path)  # the plugin loader, initialised
    built = modify_module(module_name=name, module_path=module_path, module_args=args,
                          templar=Templar(loader=DataLoader()),
                          task_vars={'ansible_python_interpreter': python})
    # started as sshd starts it, whatever this test run ignores
    proc = subprocess.run([python], input=built.b_module_data, capture_output=True, timeout=60, cwd='/',
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    return json.loads(proc.stdout)


@pytest.mark.parametrize('python', TARGET_PYTHONS, ids=_python_id)
def test_programs_a_module_starts_inherit_what_they_do_under_vanilla(tmp_path, python):
    """In an interpreter that ignores SIGINT (as ours do), a module's
    run_command children see the dispositions, mask and umask of a vanilla
    run; no Python runs in the child unless the module asked for a umask
    (then run_command's preexec_fn must run: it is kept)."""
    marker = str(tmp_path / 'python-ran-in-child')
    args = {'marker': marker}
    plan = real_module_plan('parity_children', args, CHILDREN_MODULE)
    spec = plan.answer({'need': list(plan.bundle.sources)})
    ours = result_json(in_fresh_interpreter([IGNORE_SIGINT, ('run', (spec,))], python)[1])
    vanilla = _ansiballz_run('parity_children', args, CHILDREN_MODULE, python)
    assert vanilla['python_in_child'] == [True, True, True]  # the probe sees a preexec_fn
    assert ours['python_in_child'] == [False, False, True]
    assert vanilla['umask']['stdout'][0] == '0077' and vanilla['shell']['stdout'][0] == '0022'
    assert vanilla['sigint_default_handler'] and any(line.startswith('SigIgn:') for line in vanilla['plain']['stdout'])
    for key in ('plain', 'shell', 'umask', 'sigint_default_handler', 'sigpipe_ignored'):
        assert ours[key] == vanilla[key], key


def test_sigint_stays_ignored_by_the_interpreter_after_a_module():
    probe = probe_module('print(json.dumps({}))')
    replies = in_fresh_interpreter([IGNORE_SIGINT, ('run', (python_spec(probe),)),
                                    ('eval', "__import__('signal').getsignal(2) == __import__('signal').SIG_IGN"),
                                    ('eval', "__import__('subprocess').Popen.__module__")])
    assert replies[2:] == [True, 'subprocess']


def test_atexit_handlers_of_a_module_run_after_it(tmp_path):
    marker = tmp_path / 'cleaned'
    bundle = probe_module('''
        import atexit
        atexit.register(lambda: open(%r, 'w').close())
    ''' % str(marker))
    in_fresh_interpreter([('run', (python_spec(bundle),))])
    assert marker.exists()


def _mu_bundle(value):
    modules = dict(PKGS)
    modules['ansible.module_utils'] = ''
    modules['ansible.module_utils.shared'] = 'VALUE = %r\nSTATE = []\n' % value
    modules['ansible.modules.probe'] = textwrap.dedent('''
        import json, os
        from ansible.module_utils import shared
        shared.STATE.append(1)
        print(json.dumps({'value': shared.VALUE, 'calls': len(shared.STATE), 'pid': os.getpid()}))
        raise SystemExit
    ''')
    return hand_bundle('ansible.modules.probe', modules)


def test_module_utils_override_runs_in_fork_and_leaks_nothing():
    one, two = _mu_bundle('one'), _mu_bundle('two')
    replies = in_fresh_interpreter([
        ('run', (python_spec(one),)),
        ('run', (python_spec(two),)),
        ('run', (python_spec(one),)),
        ('eval', 'os.getpid()'),
    ])
    first, overridden, again, pid = [r if isinstance(r, int) else json.loads(r['stdout']) for r in replies]
    assert first == {'value': 'one', 'calls': 1, 'pid': pid}
    assert overridden['value'] == 'two' and overridden['pid'] != pid
    # the in-process copy kept its state; the fork's copy did not leak into it
    assert again == {'value': 'one', 'calls': 2, 'pid': pid}


def test_fork_isolation_keeps_module_state_out_of_interpreter():
    bundle = probe_module('''
        sys.modules['leaked_by_module'] = sys
        print(json.dumps({'pid': os.getpid()}))
    ''')
    replies = in_fresh_interpreter([
        ('run', (python_spec(bundle, fork=True),)),
        ('eval', "('leaked_by_module' in sys.modules, os.getpid())"),
    ])
    assert json.loads(replies[0]['stdout'])['pid'] != replies[1][1]
    assert replies[1][0] is False


WANT_JSON_SH = b'''#!/bin/sh
# WANT_JSON
echo "{\\"args\\": $(cat "$1"), \\"argv0\\": \\"$(basename $0)\\"}"
echo "warning on stderr" >&2
exit 0
'''


def test_program_runner_passes_args_file_and_keeps_streams_apart(tmp_path):
    spec = dict(kind='program', filename='AnsiballZ_want', data=WANT_JSON_SH, interpreter=['/bin/sh'],
                args_data=b'{"x": 1}', temp_dir=str(tmp_path), env={'A': 'b'}, cwd=None)
    reply, = in_fresh_interpreter([('run', (spec,))])
    assert reply['rc'] == 0
    assert json.loads(reply['stdout']) == {'args': {'x': 1}, 'argv0': 'AnsiballZ_want'}
    assert reply['stderr'] == b'warning on stderr\n'
    assert list(tmp_path.iterdir()) == []  # temp files cleaned


def test_program_runner_emulated_tty_merges_streams_with_crlf(tmp_path):
    spec = dict(kind='program', filename='m', data=WANT_JSON_SH, interpreter=['/bin/sh'],
                args_data=b'{}', temp_dir=str(tmp_path), emulate_tty=True)
    reply, = in_fresh_interpreter([('run', (spec,))])
    assert reply['stdout'].endswith(b'\r\nwarning on stderr\r\n') and reply['stderr'] == b''


def test_missing_interpreter_is_reported_as_not_found(tmp_path):
    spec = dict(kind='program', filename='m', data=b'#!/usr/bin/nope\n', interpreter=['/usr/bin/nope'],
                args_data=b'{}', temp_dir=str(tmp_path))
    reply, = in_fresh_interpreter([('run', (spec,))])
    assert reply['rc'] == 127 and b'/usr/bin/nope: not found' in reply['stderr']


def test_old_style_args_line_matches_vanilla():
    assert planner.old_style_args({'a': 'x y', 'b': 1}) == "a='x y' b=1 "


def test_exec_command_semantics():
    calls = [
        ('exec_command', ('echo out; echo err >&2; exit 4',)),
        ('exec_command', ('cat', b'stdin data')),
        ('exec_command', ('printf "a\\r\\nb\\n"; echo e >&2', b'', None, None, True)),
        ('exec_command', ('pwd', b'', '/usr')),
    ]
    plain, stdin, tty, cwd = in_fresh_interpreter(calls)
    assert plain == (4, b'out\n', b'err\n')
    assert stdin == (0, b'stdin data', b'')
    assert tty == (0, b'a\r\nb\r\ne\r\n', b'')
    assert cwd[1] == b'/usr\n'


@pytest.mark.parametrize('python', TARGET_PYTHONS, ids=_python_id)
def test_exec_command_children_start_with_default_signals_without_a_fork(tmp_path, python):
    """raw/script/program modules: the interpreter ignores SIGINT (and here
    SIGTERM); the program must see both at their default, and no Python
    runs in the child (no fork of the interpreter) unless SIGCHLD is
    ignored, which only a preexec_fn can reset."""
    marker = str(tmp_path / 'python-ran-in-child')
    status = "grep '^SigIgn' /proc/self/status"
    ignore = "[__import__('signal').signal(n, __import__('signal').SIG_IGN) for n in %s] and None"
    calls = [('eval', ignore % '(2, 13, 15)'),
             ('eval', "__import__('os').register_at_fork(after_in_child=lambda: open(%r, 'w').close())" % marker),
             ('exec_command', (status,)),
             ('eval', "__import__('os').path.exists(%r)" % marker),
             ('eval', "[__import__('signal').getsignal(n) == 1 for n in (2, 15)]"),  # still ignored
             ('eval', ignore % '(17,)'),
             ('exec_command', (status,)),
             ('eval', "__import__('os').path.exists(%r)" % marker)]
    replies = in_fresh_interpreter(calls, python)
    for rc, out, _ in (replies[2], replies[6]):
        ignored = int(out.split()[1], 16)
        assert rc == 0 and not ignored & (1 << 1 | 1 << 12 | 1 << 14 | 1 << 16), out
    assert replies[3] is False and replies[7] is True
    assert replies[4] == [True, True]


def _wait_job(path, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as fp:
            data = json.load(fp)
        if 'started' not in data or data.get('finished'):
            return data
        time.sleep(0.1)
    raise AssertionError('job did not finish: %r' % data)


def test_async_job_writes_status_file_like_async_wrapper(tmp_path):
    bundle = probe_module('''
        import time
        time.sleep(0.5)
        print(json.dumps({'changed': True, 'slept': 1}))
    ''')
    spec = python_spec(bundle, async_jid='j123', async_limit=10, async_dir=str(tmp_path))
    t0 = time.monotonic()
    reply, = in_fresh_interpreter([('run', (spec,))])
    assert time.monotonic() - t0 < 10
    started = reply['async']
    assert started['started'] is True and started['finished'] is False
    assert started['ansible_job_id'].startswith('j123.')
    assert started['results_file'] == str(tmp_path / started['ansible_job_id'])
    done = _wait_job(started['results_file'])
    assert done == {'changed': True, 'slept': 1, 'ansible_job_id': started['ansible_job_id']}


def test_async_job_time_limit_kills_it(tmp_path):
    spec = dict(kind='program', filename='m', data=b'#!/bin/sh\nsleep 30\n', interpreter=['/bin/sh'],
                args_data=None, temp_dir=str(tmp_path), async_jid='j9', async_limit=1,
                async_dir=str(tmp_path / 'jobs'))
    reply, = in_fresh_interpreter([('run', (spec,))])
    done = _wait_job(reply['async']['results_file'])
    assert done['failed'] is True and done['msg'] == 'Timeout exceeded'




@pytest.mark.skipif(PYTHON38 is None, reason='no Python 3.8 here')
def test_runner_works_on_python38():
    reply, = in_fresh_interpreter([('run', (python_spec(probe_module('print(1)')),))], PYTHON38)
    assert reply['rc'] == 0


def test_runner_module_compiles_for_python38():
    # keep target code free of syntax newer than 3.8: all of remote/ travels
    import ast
    remote = os.path.join(REPO_ROOT, 'ansible_mitogen', 'remote')
    names = sorted(n for n in os.listdir(remote) if n.endswith('.py'))
    assert {'__init__.py', 'runner.py', 'target.py', 'task_wire.py', 'source_relay.py'} <= set(names)
    for name in names:
        with open(os.path.join(remote, name)) as fp:
            ast.parse(fp.read(), feature_version=(3, 8))


def test_remote_code_imports_nothing_of_the_controller_side():
    # what travels must not pull controller code (or ansible) into a target
    import ast
    remote = os.path.join(REPO_ROOT, 'ansible_mitogen', 'remote')
    for name in sorted(n for n in os.listdir(remote) if n.endswith('.py')):
        with open(os.path.join(remote, name)) as fp:
            tree = ast.parse(fp.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert not node.level, '%s: relative import' % name
                imported = [node.module]
            else:
                continue
            for module in imported:
                top = module.split('.')[0]
                assert top == 'mitogen' or module.startswith('ansible_mitogen.remote') or (
                    top != 'ansible_mitogen' and top != 'ansible'), '%s imports %s' % (name, module)


def test_wire_compression_roundtrip_and_size():
    from ansible_mitogen.remote import target
    params = json.dumps({'ANSIBLE_MODULE_ARGS': {'_raw_params': '/bin/true', '_ansible_check_mode': False,
                                                 '_ansible_no_log': False, '_ansible_remote_tmp': '~/.ansible/tmp'}}).encode()
    packed = task_wire.compress(params)
    assert task_wire.decompress(packed) == params and len(packed) < len(params) / 2
    plan = real_module_plan('command', {'_raw_params': 'echo ' + 'x' * 600})
    spec = plan.spec()
    assert 'json_params_z' in spec and 'json_params' not in spec
    assert 'cwd' not in spec and 'fork' not in spec  # defaults stay off the wire
    reply = target.run_module(plan.answer({'need': list(plan.bundle.sources)}))
    assert 'stdout_z' in reply
    assert json.loads(task_wire.decompress(reply['stdout_z']))['stdout'] == 'x' * 600
