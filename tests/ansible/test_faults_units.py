"""What a target or a hostile setting must not achieve, in one real interpreter each.

Runs on the controller with real children (mitogen `local`): module output
written to fds 1/2 stays in the task's result and out of the controller's
log; module bundles written to disk are removed when the interpreter
exits; secrets never appear in log lines at any level; user strings never
become shell code.  The fault matrix against real targets is
tests/ansible/test_faults.py.
"""
import logging
import os
import subprocess
import time

import pytest

import mitogen.core
import mitogen.master
import mitogen.parent
from ansible_mitogen.executor import transport_config
from ansible_mitogen.remote import runner
from tests.ansible.test_exec_runner import hand_bundle, probe_module, python_spec, PKGS

SECRET = 'fd-s3cret-4711'


@pytest.fixture
def router():
    r = mitogen.master.Router()
    yield r
    r.broker.shutdown()
    r.broker.join(10)


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_module_writes_to_fds_stay_in_the_result(router, caplog):
    bundle = probe_module('''
        os.write(1, b'junk on fd1\\n')
        os.write(2, b'%s on fd2\\n')
        import subprocess
        subprocess.call(['sh', '-c', 'echo child-%s >&2'])
        print(json.dumps({'changed': False}))
    ''' % (SECRET, SECRET))
    ctx = router.local()
    with caplog.at_level(logging.DEBUG):
        result = ctx.call(runner.run, python_spec(bundle))
        # the next call's reply comes after any log record of the first
        assert ctx.call(os.getpid)
        time.sleep(0.3)
    assert result['rc'] == 0
    assert result['stdout'].startswith(b'junk on fd1\n') and result['stdout'].endswith(b'{"changed": false}\n')
    assert (SECRET + ' on fd2').encode() in result['stderr']
    assert ('child-' + SECRET).encode() in result['stderr']
    assert SECRET not in caplog.text
    # fds 1/2 are the interpreter's own again: its output is logged as before
    with caplog.at_level(logging.DEBUG):
        ctx.call(os.system, 'echo after-task >&2')
        assert _wait_for(lambda: 'after-task' in caplog.text)


def _bundle_dir(bundle_id, manifest, sources):
    """In the child: write the bundle to disk as a respawning module's would be."""
    runner.add_sources(sources)
    return runner.modlib_path(bundle_id, [tuple(entry) for entry in manifest])


def _child_with_bundle_dir(router):
    """A new interpreter and the bundle directory it wrote for a respawning module."""
    modules = dict(PKGS)
    modules.update({'ansible.module_utils': '', 'ansible.module_utils.common': '',
                    'ansible.module_utils.common.respawn': 'X = 1\n', 'ansible.modules.probe': ''})
    bundle = hand_bundle('ansible.modules.probe', modules)
    ctx = router.local()
    path = ctx.call(_bundle_dir, bundle.bundle_id, bundle.manifest, bundle.sources)
    assert path and os.path.isdir(path)
    return ctx, path


def test_bundle_dir_removed_when_interpreter_exits(router):
    ctx, path = _child_with_bundle_dir(router)
    ctx.shutdown(wait=True)
    assert _wait_for(lambda: not os.path.exists(path))


def _signal_seen_then_sigterm_self():
    """Runs in the child: a module sees SIGTERM at its default, as under
    vanilla, then terminates its own process; the call never returns."""
    import signal
    # not under `ansible`, which this test module's imports brought in
    # here: such a bundle would run in a fork (conflicting names)
    killer = hand_bundle('mt_sigterm_probe', {'mt_sigterm_probe': '''
        import os, signal, sys, time
        if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
            print(repr(signal.getsignal(signal.SIGTERM)))
            sys.exit(0)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
    '''})
    reply = runner.run(python_spec(killer))
    return reply, repr(signal.getsignal(signal.SIGTERM))


def test_sigterm_during_a_module_still_removes_the_bundle_dir(router):
    """The interpreter catches SIGTERM to remove what it wrote to disk;
    a module is shown the default instead (vanilla's), and a SIGTERM while
    it runs ends the interpreter after that clean-up all the same."""
    ctx, path = _child_with_bundle_dir(router)
    with pytest.raises(mitogen.core.ChannelError):
        ctx.call(_signal_seen_then_sigterm_self)
    assert _wait_for(lambda: not os.path.exists(path))


def test_secrets_never_in_debug_log(router, caplog, tmp_path):
    token = 'kube-t0ken-%d' % os.getpid()
    password = 'pw-%d-x' % os.getpid()
    kubectl = tmp_path / 'kubectl'
    kubectl.write_text('#!/bin/sh\necho "$@" >&2\nexit 1\n')
    kubectl.chmod(0o755)
    with caplog.at_level(logging.DEBUG):
        for args in (['--token', token], ['--token=' + token]):
            with pytest.raises(mitogen.core.StreamError):
                router.kubectl(pod='p', kubectl_path=str(kubectl), kubectl_args=args, connect_timeout=10)
        with pytest.raises(mitogen.core.StreamError):
            router.sudo(username='nobody', sudo_path='/bin/false', password=password, connect_timeout=10)
        logging.getLogger('elsewhere').warning('built by concatenation: ' + str.__str__(
            mitogen.core.Secret(password)))
    assert 'kube-t0ken' not in caplog.text
    assert password not in caplog.text
    assert '[secret]' in caplog.text


def test_secret_hops_keep_distinct_stack_keys():
    from ansible_mitogen.multiplexer.service_names import stack_key
    one = [{'method': 'sudo', 'kwargs': {'password': transport_config.secret('pass-one-4711')}}]
    two = [{'method': 'sudo', 'kwargs': {'password': transport_config.secret('pass-two-4711')}}]
    assert stack_key(one) != stack_key(two)
    assert 'pass-' not in repr(one) + repr(two)


def test_interpreter_fallback_list_is_never_shell_code(tmp_path):
    marker = tmp_path / 'ran'
    fallback = ['/no/such/python', '$(touch %s)' % marker, '`touch %s`' % marker, "it's \"quoted\""]
    argv = transport_config.python_path('auto', fallback)
    proc = subprocess.run(argv + ['-c', 'pass'], capture_output=True, timeout=30)
    assert proc.returncode == 127
    assert not marker.exists()
    assert proc.stderr.decode().strip() == (
        'no Python interpreter found on the target (tried: %s)' % ' '.join(fallback))
    # A real interpreter later in the list is still found.
    ok = transport_config.python_path('auto', ['/no/such/python', 'python3'])
    assert subprocess.run(ok + ['-c', 'print(6 * 7)'], capture_output=True, timeout=30).stdout == b'42\n'
