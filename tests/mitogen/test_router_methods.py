"""Router shortcuts (router.ssh('host'), router.setns('c', 'docker'), ...).

Positional and keyword forms must start the same child: checked with real
children booted through the stub CLIs of tests/mitogen/stubs and a fake ssh,
comparing the command lines they were started with.  Runs on the controller.
"""
import inspect
import json
import os
import sys

import pytest

import mitogen.core
import mitogen.master
import mitogen.parent
from tests.mitogen import funcs

STUB = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'stubs', 'cli_stub.py')


@pytest.fixture
def bindir(tmp_path, monkeypatch):
    """Directory with stub tools; MITOGEN_STUB_LOG collects their argv."""
    d = tmp_path / 'bin'
    d.mkdir()
    for tool in ('lxc-attach', 'kubectl', 'docker', 'sudo'):
        os.symlink(STUB, str(d / tool))
    # A fake ssh: records its argv, then runs the remote command locally.
    ssh = d / 'ssh'
    ssh.write_text('#!/bin/sh\nfor a; do last=$a; done\n'
                   'printf "%s\\n" "$*" >> "$MITOGEN_STUB_LOG.ssh"\nexec /bin/sh -c "$last"\n')
    ssh.chmod(0o755)
    monkeypatch.setenv('MITOGEN_STUB_LOG', str(tmp_path / 'argv.jsonl'))
    return str(d)


def logged_argvs():
    with open(os.environ['MITOGEN_STUB_LOG']) as fp:
        return [json.loads(line) for line in fp]


def boot(ctx):
    assert ctx.call(funcs.add, 2, 3) == 5
    return ctx


def test_table_matches_options():
    """Positional names must be the first parameters of each method's Options, in order."""
    for method in mitogen.parent.METHODS.values():
        options = mitogen.parent.import_method(method.name).Options
        params = list(inspect.signature(options.__init__).parameters)[1:]
        assert params[:len(method.positional)] == list(method.positional), method.name
        assert method.role in ('login', 'become', 'fork'), method.name


def test_core_does_not_import_parent():
    """core.py travels to every target: it imports and names no other mitogen module."""
    import ast
    with open(mitogen.core.__file__) as fp:
        tree = ast.parse(fp.read())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    names += [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    modules = [n for n in names if n and n.startswith('mitogen.') and n.split('.')[1].islower()]
    assert not [n for n in modules if n.split('.')[1] not in ('core', 'exit', 'broker')]


def test_help_shows_documented_signature():
    sig = inspect.signature(mitogen.parent.Router.setns)
    assert list(sig.parameters) == ['self', 'container', 'kind', 'kwargs']
    assert list(inspect.signature(mitogen.parent.Router.local).parameters) == ['self', 'kwargs']
    doc = mitogen.parent.Router.ssh.__doc__
    assert 'mitogen.ssh.Options' in doc and 'positionally: hostname' in doc
    assert mitogen.parent.Router.kubectl.__name__ == 'kubectl'


def test_wrong_arguments_raise_clear_type_errors(router):
    with pytest.raises(TypeError, match=r'router.local\(\) takes at most 0 positional arguments'):
        router.local('x')
    with pytest.raises(TypeError, match=r'router.setns\(\) takes at most 2 positional arguments'):
        router.setns('c', 'docker', 'extra')
    with pytest.raises(TypeError, match=r"router.ssh\(\) got multiple values for argument 'hostname'"):
        router.ssh('a', hostname='b')
    with pytest.raises(TypeError, match=r"connection method 'lxc'.*unexpected keyword argument 'bogus'"):
        router.lxc('c', bogus=1)


def test_local_and_fork_keyword_forms(router):
    assert boot(router.local(name='kw-local')).name == 'kw-local'
    assert boot(router.fork(name='kw-fork')).name == 'kw-fork'


@pytest.mark.parametrize('method, args, kwargs, expect_in_argv', [
    ('lxc', ('web1',), {'lxc_attach_path': 'lxc-attach'}, 'web1'),
    ('kubectl', ('api-0',), {'kubectl_path': 'kubectl'}, 'api-0'),
    ('docker', (None, 'debian:12'), {'docker_path': 'docker'}, 'debian:12'),
    ('sudo', ('alice',), {'sudo_path': 'sudo'}, 'alice'),
])
def test_positional_equals_keyword(router, bindir, method, args, kwargs, expect_in_argv):
    kwargs = dict((k, os.path.join(bindir, v)) for k, v in kwargs.items())
    kwargs['python_path'] = sys.executable
    shortcut = getattr(router, method)
    boot(shortcut(*args, **kwargs))
    names = mitogen.parent.METHODS[method].positional
    boot(shortcut(**dict(kwargs, **dict(zip(names, args)))))
    positional, keyword = logged_argvs()
    assert positional == keyword
    assert expect_in_argv in positional


def test_setns_container_and_kind_positionally(router, bindir, monkeypatch):
    # The leader pid is our own: no namespace to enter, the child boots as usual.
    monkeypatch.setenv('MITOGEN_STUB_PID', str(os.getpid()))
    boot(router.setns('c1', 'docker', docker_path=os.path.join(bindir, 'docker'),
                      python_path=sys.executable))
    assert logged_argvs() == [['docker', 'inspect', '--format', '{{.State.Pid}}', 'c1']]


def test_ssh_hostname_positionally(router, bindir):
    ssh = os.path.join(bindir, 'ssh')
    ctx = boot(router.ssh('box.example', ssh_path=ssh, python_path=sys.executable))
    assert ctx.name == 'ssh.box.example'
    boot(router.ssh(hostname='box.example', ssh_path=ssh, python_path=sys.executable))
    with open(os.environ['MITOGEN_STUB_LOG'] + '.ssh') as fp:
        lines = fp.read().splitlines()
    assert len(lines) == 2 and lines[0] == lines[1] and ' box.example ' in lines[0]


def test_positional_from_child_code(router, bindir):
    """A child's plain mitogen.core.Router offers the same shortcuts."""
    child = router.local()
    assert child.call(funcs.start_lxc_positionally, 'c7', os.path.join(bindir, 'lxc-attach'))
    assert logged_argvs()[0][:4] == ['lxc-attach', '--clear-env', '--name', 'c7']
