"""lxc, lxd, jail, kubectl, machinectl, podman, buildah, docker image= and setns
lookups, driven through stub CLIs (tests/mitogen/stubs/cli_stub.py).

Each stub records the exact argv it was started with and then execs the
Python command it was handed, so the child really boots and answers calls;
the recorded argv is compared with what the real tool needs.
"""
import json
import os
import sys

import pytest

import mitogen.core
import mitogen.parent
from tests.mitogen import funcs

STUB = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'stubs', 'cli_stub.py')
TOOLS = ('lxc-attach', 'lxc', 'lxc-info', 'jexec', 'kubectl', 'machinectl', 'podman', 'buildah', 'docker')


@pytest.fixture
def stubs(tmp_path, monkeypatch):
    """Directory of stub tools named like the real ones; returns (dir, read_log)."""
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    for tool in TOOLS:
        os.symlink(STUB, str(bindir / tool))
    log = tmp_path / 'argv.jsonl'
    monkeypatch.setenv('MITOGEN_STUB_LOG', str(log))

    def read_log():
        return [json.loads(line) for line in log.read_text().splitlines()]
    return str(bindir), read_log


def boot_tail():
    """What every recorded argv must end with: our interpreter and stage 1."""
    return [sys.executable, '-c', mitogen.parent.get_stage1_argument()]


def check_child(ctx):
    assert ctx.call(funcs.add, 1, 2) == 3
    assert ctx.call(os.getppid) == os.getpid()  # the stub exec'd the child in place
    return ctx


def test_lxc(router, stubs):
    bindir, read_log = stubs
    check_child(router.lxc('web1', lxc_attach_path=os.path.join(bindir, 'lxc-attach'),
                           python_path=sys.executable))
    assert read_log() == [['lxc-attach', '--clear-env', '--name', 'web1', '--'] + boot_tail()]


def test_lxd_found_on_path(router, stubs, monkeypatch):
    bindir, read_log = stubs
    monkeypatch.setenv('PATH', bindir + os.pathsep + os.environ['PATH'])
    ctx = check_child(router.lxd(container='web2', python_path=sys.executable))
    assert ctx.name == 'lxd.web2'
    assert read_log() == [['lxc', 'exec', '--mode=non-interactive', 'web2', '--'] + boot_tail()]


def test_jail(router, stubs):
    bindir, read_log = stubs
    check_child(router.jail(container='j1', jexec_path=os.path.join(bindir, 'jexec'),
                            python_path=sys.executable))
    check_child(router.jail(container='j1', username='www', jexec_path=os.path.join(bindir, 'jexec'),
                            python_path=sys.executable))
    assert read_log() == [['jexec', 'j1'] + boot_tail(), ['jexec', '-U', 'www', 'j1'] + boot_tail()]


def test_kubectl(router, stubs):
    bindir, read_log = stubs
    check_child(router.kubectl('api-0', kubectl_path=os.path.join(bindir, 'kubectl'),
                               kubectl_args=['--namespace', 'prod', '-c', 'app'], python_path=sys.executable))
    assert read_log() == [['kubectl', 'exec', '-i', 'api-0', '--namespace', 'prod', '-c', 'app', '--']
                          + boot_tail()]


def test_machinectl_wraps_in_raw_tty_shell(router, stubs):
    bindir, read_log = stubs
    check_child(router.machinectl(container='m1', username='app', python_path=sys.executable,
                                  machinectl_path=os.path.join(bindir, 'machinectl')))
    script = 'stty raw -echo 2>/dev/null; exec ' + mitogen.parent.shell_join(boot_tail())
    assert read_log() == [['machinectl', 'shell', '--quiet', '--uid=app', 'm1', '/bin/sh', '-c', script]]


def test_podman(router, stubs):
    bindir, read_log = stubs
    check_child(router.podman(container='p1', username='u1', podman_path=os.path.join(bindir, 'podman'),
                              python_path=sys.executable))
    assert read_log() == [['podman', 'exec', '--interactive', '--user', 'u1', 'p1'] + boot_tail()]


def test_buildah(router, stubs):
    bindir, read_log = stubs
    check_child(router.buildah(container='b1', buildah_path=os.path.join(bindir, 'buildah'),
                               python_path=sys.executable))
    assert read_log() == [['buildah', 'run', 'b1', '--'] + boot_tail()]


def test_docker_image_runs_throwaway_container(router, stubs):
    bindir, read_log = stubs
    check_child(router.docker(image='debian:12', username='nobody', docker_path=os.path.join(bindir, 'docker'),
                              python_path=sys.executable))
    assert read_log() == [['docker', 'run', '--interactive', '--rm', '--user', 'nobody', 'debian:12']
                          + boot_tail()]


def test_via_local_child(router, stubs):
    """The method module is import-forwarded into the via context and runs there."""
    bindir, read_log = stubs
    local = router.local()
    ctx = router.lxc(container='c9', via=local, python_path=sys.executable,
                     lxc_attach_path=os.path.join(bindir, 'lxc-attach'))
    assert ctx.call(os.getppid) == local.call(os.getpid)
    assert read_log()[0][:4] == ['lxc-attach', '--clear-env', '--name', 'c9']


def test_stub_failure_output_is_reported(router, tmp_path):
    tool = tmp_path / 'kubectl'
    tool.write_text('#!/bin/sh\necho \'Error from server (NotFound): pods "nope" not found\' >&2\nexit 1\n')
    tool.chmod(0o755)
    with pytest.raises(mitogen.parent.ConnectError, match='kubectl: no such pod'):
        router.kubectl(pod='nope', kubectl_path=str(tool), connect_timeout=10)


def test_missing_tool_is_reported(router, tmp_path):
    with pytest.raises(mitogen.core.StreamError, match='cannot start'):
        router.lxd(container='x', lxc_path=str(tmp_path / 'no-such-lxc'))


@pytest.mark.parametrize('kind, tool, path_kw, query', [
    ('docker', 'docker', 'docker_path', ['docker', 'inspect', '--format', '{{.State.Pid}}', 'c1']),
    ('lxc', 'lxc-info', 'lxc_info_path', ['lxc-info', '--no-humanize', '--pid', '--name', 'c1']),
    ('lxd', 'lxc', 'lxc_path', ['lxc', 'info', 'c1']),
    ('machinectl', 'machinectl', 'machinectl_path', ['machinectl', 'show', '--property=Leader', 'c1']),
])
def test_setns_leader_lookup(router, stubs, monkeypatch, kind, tool, path_kw, query):
    """Each kind asks its tool for the leader pid; here the leader is this very
    process, so there are no namespaces to change and the child boots as usual."""
    bindir, read_log = stubs
    monkeypatch.setenv('MITOGEN_STUB_PID', str(os.getpid()))
    ctx = router.setns('c1', kind, python_path=sys.executable,
                       **{path_kw: os.path.join(bindir, tool)})
    assert ctx.call(funcs.add, 2, 2) == 4
    assert read_log() == [query]


def test_setns_not_running(router, stubs, monkeypatch):
    bindir, read_log = stubs
    monkeypatch.setenv('MITOGEN_STUB_PID', '0')
    with pytest.raises(mitogen.parent.ConnectError, match="docker container 'c1' is not running"):
        router.setns(container='c1', kind='docker', docker_path=os.path.join(bindir, 'docker'))


def test_setns_rejects_unknown_kind(router):
    with pytest.raises(ValueError, match='kind must be one of'):
        router.setns(container='c1', kind='vmware')
