"""docker exec and setns into a real test-bed container, alone and in chains."""
import os
import subprocess

import pytest

import mitogen.core
import mitogen.parent
from tests.mitogen import funcs
from tests.mitogen.test_method_ssh import FAST, fails_within, uid_of
from tests.testbed import users


def container_facts(ctx):
    """Facts only true inside a test-bed container (pid 1 is docker's init).

    Only stdlib functions are called remotely: importing this test module in
    the child would drag pytest along through import forwarding.
    """
    init = ctx.call(subprocess.check_output, ['cat', '/proc/1/cmdline']).split(b'\0')[0].decode()
    return ctx.call(os.path.exists, '/etc/sudoers.d/mitogen-testbed'), init, ctx.call(os.getuid)


def test_docker_exec_as_root(router, target):
    ctx = router.docker(container=target.container, python_path=target.python)
    assert container_facts(ctx) == (True, '/sbin/docker-init', 0)
    assert ctx.name == 'docker.%s' % target.container


def test_docker_exec_as_user_then_sudo(router, target):
    user = router.docker(container=target.container, username=users.SUDO_NOPW.name)
    assert user.call(os.getuid) == uid_of(target, users.SUDO_NOPW.name)
    root = router.sudo(via=user)
    assert container_facts(root) == (True, '/sbin/docker-init', 0)


def test_local_then_docker_via(router, target):
    local = router.local()
    ctx = router.docker(via=local, container=target.container)
    assert container_facts(ctx)[0]
    assert ctx.call(funcs.get_ids)[1] == local.context_id


def test_docker_no_such_container(router):
    fails_within(FAST, mitogen.parent.ConnectError, 'docker: no such container',
                 router.docker, container='mitogen-no-such-container-xyz')


def test_docker_missing_python(router, target):
    fails_within(FAST, mitogen.parent.EofError, "python interpreter '/opt/nope/python3' not found",
                 router.docker, container=target.container, python_path='/opt/nope/python3')


def need_root():
    if os.getuid() != 0:
        pytest.skip('setns needs root')


def test_setns_enters_the_container(router, target):
    need_root()
    ctx = router.setns(container=target.container, kind='docker')
    found, init, uid = container_facts(ctx)
    assert (found, init, uid) == (True, '/sbin/docker-init', 0)
    # The container's own pid namespace (not just a pid that happens to be
    # small), and its parent is our waiting intermediate, outside it (pid 0).
    init_pid = subprocess.check_output(
        ['docker', 'inspect', '-f', '{{.State.Pid}}', target.container], text=True).strip()
    assert ctx.call(os.readlink, '/proc/self/ns/pid') == os.readlink('/proc/%s/ns/pid' % init_pid)
    assert ctx.call(os.readlink, '/proc/self/ns/pid') != os.readlink('/proc/self/ns/pid')
    assert ctx.call(os.getppid) == 0
    # ... and its mount namespace: the host's files are out of sight.
    assert not ctx.call(os.path.exists, os.path.abspath(__file__))


def test_setns_as_user(router, target):
    need_root()
    ctx = router.setns(container=target.container, kind='docker', username=users.UNPRIVILEGED.name)
    assert ctx.call(os.getuid) == uid_of(target, users.UNPRIVILEGED.name)
    assert ctx.call(os.getcwd) == '/'
    assert ctx.call(os.path.expanduser, '~') == '/home/%s' % users.UNPRIVILEGED.name


def test_setns_unknown_user(router, target):
    need_root()
    fails_within(FAST, mitogen.parent.ConnectError, "no user 'nobody-here' in the container",
                 router.setns, container=target.container, kind='docker', username='nobody-here')


def test_setns_no_such_container(router):
    fails_within(FAST, mitogen.parent.ConnectError, "docker container 'mitogen-no-such-ctr' is not running",
                 router.setns, container='mitogen-no-such-ctr', kind='docker')


def test_docker_child_sees_call_errors(router, target):
    ctx = router.docker(container=target.container)
    with pytest.raises(mitogen.core.CallError, match='boom'):
        ctx.call(funcs.raise_value_error, 'boom')


def test_setns_missing_python(router, target):
    need_root()
    fails_within(FAST, mitogen.parent.EofError, "python interpreter '/opt/nope/python3' cannot be started in the co",
                 router.setns, container=target.container, kind='docker', python_path='/opt/nope/python3')
