"""The ssh method against real sshd in test-bed containers: logins, via
chains, and every failure mode with its message and time bound."""
import logging
import os
import socket
import subprocess
import sys
import time

import pytest

import mitogen.core
import mitogen.parent
from tests.mitogen import funcs
from tests.testbed import users

#: Errors must arrive well before the default 30 s connect timeout.
FAST = 10.0


def ssh_kwargs(testbed, target, **kwargs) -> dict:
    """router.ssh() keywords reaching `target` with the test-bed key."""
    base = dict(hostname=target.host, port=target.port, identity_file=testbed.private_key,
                check_host_keys='ignore', python_path=target.python)
    base.update(kwargs)
    return base


def uid_of(target, user: str) -> int:
    return int(target.exec(['id', '-u', user]).stdout)


def child_pids() -> set:
    """Pids of this process's live (or zombie) children."""
    pids = set()
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as fp:
                    fields = fp.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                pids.add(int(entry))
    return pids


def fails_within(seconds, exc_type, match, fn, *args, **kwargs):
    """Run fn, expecting exc_type matching `match` in less than `seconds`,
    and leaving no child process (running or zombie) behind."""
    before = child_pids()
    t0 = time.monotonic()
    with pytest.raises(exc_type, match=match) as info:
        fn(*args, **kwargs)
    elapsed = time.monotonic() - t0
    assert elapsed < seconds, 'took %.1fs: %s' % (elapsed, info.value)
    assert child_pids() - before == set()
    return info.value


def test_ssh_as_root(router, testbed, target):
    ctx = router.ssh(**ssh_kwargs(testbed, target, username='root'))
    assert ctx.call(os.getuid) == 0
    assert ctx.call(funcs.add, 2, 3) == 5
    assert ctx.name == 'ssh.root@%s:%d' % (target.host, target.port)
    # The child runs in the container (its sudoers file exists there only).
    assert ctx.call(os.path.exists, '/etc/sudoers.d/mitogen-testbed')


def test_positional_hostname_and_verbose_ssh(router, testbed, target):
    """ssh -vvv output is scanned too; none of its lines may look like a prompt or a failure."""
    kw = ssh_kwargs(testbed, target, username='root', ssh_debug_level=3)
    ctx = router.ssh(kw.pop('hostname'), **kw)
    assert ctx.call(funcs.add, 1, 1) == 2


def test_ssh_as_unprivileged_user(router, testbed, target):
    ctx = router.ssh(**ssh_kwargs(testbed, target, username=users.UNPRIVILEGED.name))
    assert ctx.call(os.getuid) == uid_of(target, users.UNPRIVILEGED.name)
    assert ctx.call(funcs.argv0).startswith('python(mitogen:')


def test_ssh_with_password_and_no_key(router, testbed, target):
    ctx = router.ssh(**ssh_kwargs(testbed, target, identity_file=None, username=users.UNPRIVILEGED.name,
                                  password=users.UNPRIVILEGED.password))
    assert ctx.call(os.getuid) == uid_of(target, users.UNPRIVILEGED.name)


def test_password_never_logged(router, testbed, target, caplog):
    caplog.set_level(logging.DEBUG)
    password = users.UNPRIVILEGED.password
    ctx = router.ssh(**ssh_kwargs(testbed, target, identity_file=None, username=users.UNPRIVILEGED.name,
                                  password=password, debug=True))
    ctx.call(funcs.log_message, logging.INFO, 'hello from the child')
    ctx.call(funcs.noop)
    assert 'spawning' in caplog.text and 'hello from the child' in caplog.text
    assert password not in caplog.text


def test_ssh_via_ssh(router, testbed, target):
    """Second hop starts from the first: the key is read on the target, so copy it there."""
    first = router.ssh(**ssh_kwargs(testbed, target, username='root'))
    with open(testbed.private_key) as fp:
        key = fp.read()
    first.call(funcs.append_to, '/root/.mitogen_test_key', key)
    first.call(os.chmod, '/root/.mitogen_test_key', 0o600)
    second = router.ssh(via=first, **ssh_kwargs(testbed, target, username=users.UNPRIVILEGED.name,
                                                 identity_file='/root/.mitogen_test_key'))
    assert second.call(os.getuid) == uid_of(target, users.UNPRIVILEGED.name)
    assert second.call(os.getppid) != first.call(os.getpid)  # sshd session, not a local child
    assert second.call(funcs.get_ids)[1] == first.context_id


def test_wrong_password(router, testbed, target):
    kw = ssh_kwargs(testbed, target, identity_file=None, username=users.UNPRIVILEGED.name, password='wrong')
    fails_within(FAST, mitogen.parent.PasswordError, 'ssh password is incorrect', router.ssh, **kw)


def test_key_refused(router, testbed, target, tmp_path):
    """Without a password BatchMode forbids the password fallback: a clear failure, no hang."""
    kw = ssh_kwargs(testbed, target, identity_file=str(new_key(tmp_path)), username=users.UNPRIVILEGED.name)
    fails_within(FAST, mitogen.parent.ConnectError, r'ssh authentication failed.*Permission denied \(publickey',
                 router.ssh, **kw)


def test_account_without_shell(router, testbed, target):
    kw = ssh_kwargs(testbed, target, username=users.NOLOGIN.name)
    fails_within(FAST, mitogen.parent.ConnectError, 'account has no usable shell', router.ssh, **kw)


def test_connection_refused(router, testbed, target):
    kw = ssh_kwargs(testbed, target, port=free_port())
    fails_within(FAST, mitogen.parent.ConnectError, 'ssh connection refused', router.ssh, **kw)


def test_network_unreachable(router, testbed, target, tmp_path):
    """ssh runs in an empty network namespace (loopback down), a real unreachable network."""
    if subprocess.run(['unshare', '-n', 'true']).returncode != 0:
        pytest.skip('cannot create a network namespace here')
    wrapper = tmp_path / 'ssh-no-network'
    wrapper.write_text('#!/bin/sh\nexec unshare -n ssh "$@"\n')
    wrapper.chmod(0o755)
    kw = ssh_kwargs(testbed, target, ssh_path=str(wrapper))
    fails_within(FAST, mitogen.parent.ConnectError, 'ssh host unreachable', router.ssh, **kw)


def test_connect_timeout_on_silent_server(router, testbed, target):
    """A server that accepts but never speaks: ssh hangs in the banner exchange."""
    with socket.socket() as silent:
        silent.bind(('127.0.0.1', 0))
        silent.listen(5)
        kw = ssh_kwargs(testbed, target, port=silent.getsockname()[1], connect_timeout=2)
        # Our deadline or ssh's own ConnectTimeout, whichever notices first.
        fails_within(6, (mitogen.core.TimeoutError, mitogen.parent.ConnectError), '(?i)timed out',
                     router.ssh, **kw)


def test_host_key_mismatch_enforced(router, testbed, target, tmp_path):
    known = tmp_path / 'known_hosts'
    wrong_key = (tmp_path / 'other.pub')
    new_key(tmp_path, 'other')
    known.write_text('[%s]:%d %s\n' % (target.host, target.port, ' '.join(wrong_key.read_text().split()[:2])))
    kw = ssh_kwargs(testbed, target, check_host_keys='enforce', ssh_args=['-o', 'UserKnownHostsFile=%s' % known])
    fails_within(FAST, mitogen.parent.ConnectError, 'ssh host key verification failed', router.ssh, **kw)


def test_unknown_host_key_enforced_then_accepted(router, testbed, target, tmp_path):
    known = tmp_path / 'known_hosts'
    known.write_text('')
    args = ['-o', 'UserKnownHostsFile=%s' % known]
    kw = ssh_kwargs(testbed, target, check_host_keys='enforce', ssh_args=args)
    fails_within(FAST, mitogen.parent.ConnectError, 'ssh host key verification failed', router.ssh, **kw)
    ctx = router.ssh(**dict(kw, check_host_keys='accept'))
    assert ctx.call(os.getuid) == 0
    assert 'ssh-ed25519' in known.read_text()  # recorded (hashed host name)
    # Now the key is known: enforce succeeds.
    assert router.ssh(**dict(kw, check_host_keys='enforce')).call(funcs.add, 1, 1) == 2


def test_python_missing_on_target(router, testbed, target):
    kw = ssh_kwargs(testbed, target, python_path='/usr/bin/no-such-python3')
    fails_within(FAST, mitogen.parent.EofError,
                 "python interpreter '/usr/bin/no-such-python3' not found on the target", router.ssh, **kw)


def test_ssh_debug_level_output_reaches_the_error(router, testbed, target):
    kw = ssh_kwargs(testbed, target, port=free_port(), ssh_debug_level=2)
    err = fails_within(FAST, mitogen.parent.ConnectError, 'ssh connection refused', router.ssh, **kw)
    assert 'debug1:' in str(err)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def new_key(tmp_path, name='stranger'):
    path = tmp_path / name
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(path)], check=True)
    return path


if __name__ == '__main__':
    sys.exit(pytest.main([__file__]))
