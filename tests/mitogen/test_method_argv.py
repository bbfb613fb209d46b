"""Exact command lines the methods build (no process started): ssh options
per argument, sudo/su/doas flags, docker exec/run, and sh-safe quoting."""
import shlex
import subprocess

import pytest

import mitogen.core
import mitogen.parent
from mitogen import docker, doas, lxd, podman, ssh, su, sudo

BOOT = ['python3', '-c', 'import zlib;print("it\'s $HOME `x`")']


def ssh_argv(**kwargs):
    return ssh.build_ssh_argv(ssh.Options(**kwargs), 'CMD')


def test_ssh_minimal():
    assert ssh_argv(hostname='h') == [
        'ssh', '-o', 'LogLevel=ERROR', '-o', 'Compression=yes',
        '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3', '-o', 'BatchMode=yes',
        '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=30', '--', 'h', 'CMD']


def test_ssh_everything():
    argv = ssh_argv(hostname='h', username='u', ssh_path='/opt/ssh', port=2222, identity_file='/k',
                    ssh_args=['-o', 'ProxyJump=j'], compression=False, keepalive_interval=5,
                    keepalive_count=7, ssh_debug_level=2, connect_timeout=4.5, check_host_keys='ignore')
    assert argv == [
        '/opt/ssh', '-o', 'ProxyJump=j', '-vv', '-l', 'u', '-p', '2222', '-i', '/k', '-o', 'IdentitiesOnly=yes',
        '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=7', '-o', 'BatchMode=yes',
        '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
        '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=4', '--', 'h', 'CMD']


def test_ssh_password_allows_prompts_and_skips_keys():
    argv = ssh_argv(hostname='h', password='pw', check_host_keys='accept', keepalive_interval=0,
                    identities_only=False, identity_file=None)
    assert argv[argv.index('-o', 4):] == [
        '-o', 'BatchMode=no', '-o', 'PreferredAuthentications=keyboard-interactive,password',
        '-o', 'PubkeyAuthentication=no', '-o', 'StrictHostKeyChecking=accept-new',
        '-o', 'ConnectTimeout=30', '--', 'h', 'CMD']
    assert 'ServerAliveInterval=0' not in ' '.join(argv)


def test_ssh_identities_only_off_and_debug_capped():
    argv = ssh_argv(hostname='h', identity_file='/k', identities_only=False, ssh_debug_level=9)
    assert '-vvv' in argv and 'IdentitiesOnly=yes' not in argv


def test_ssh_rejects_bad_arguments():
    with pytest.raises(ValueError, match='check_host_keys'):
        ssh.Options(hostname='h', check_host_keys='maybe')
    with pytest.raises(ValueError, match='hostname'):
        ssh.Options()


def test_ssh_password_is_secret():
    opts = ssh.Options(hostname='h', password='hunter2')
    assert isinstance(opts.password, mitogen.core.Secret)
    assert 'hunter2' not in repr(opts.password)


def test_remote_command_survives_sh():
    """What ssh hands to the login shell must come out as the same argv."""
    router = object()
    conn = ssh.Connection(ssh.Options(hostname='h', python_path=['/usr/bin/env', 'python3']), router)
    command = conn.get_argv()[-1]
    assert shlex.split(command) == conn.get_boot_command()
    out = subprocess.run(['sh', '-c', 'printf "%s\\n" ' + mitogen.parent.shell_join(BOOT)],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    assert out.splitlines() == BOOT


def test_sudo_flags():
    opts = sudo.Options(username='app', sudo_path='/usr/bin/sudo', preserve_env=True, set_home=True,
                        login=True, selinux_role='r', selinux_type='t', sudo_args=['-k'])
    assert sudo.build_sudo_argv(opts, BOOT) == [
        '/usr/bin/sudo', '-u', 'app', '-E', '-H', '-i', '-r', 'r', '-t', 't', '-k', '--'] + BOOT
    assert sudo.build_sudo_argv(sudo.Options(), BOOT) == ['sudo', '-u', 'root', '--'] + BOOT


def test_su_runs_command_through_shell():
    opts = su.Options(username='bob', su_path='/bin/su', su_args=['-l'])
    argv = su.build_su_argv(opts, BOOT)
    assert argv[:4] == ['/bin/su', '-l', 'bob', '-c']
    assert shlex.split(argv[4]) == BOOT
    assert su.build_su_argv(su.Options(), BOOT)[:3] == ['su', 'root', '-c']


def test_su_custom_prompts():
    conn = su.Connection(su.Options(password_prompts=['Kennwort:'], incorrect_prompts=['Falsch']), None)
    assert conn.password_patterns == (b'kennwort:',)
    assert conn.incorrect_patterns == (b'falsch',)


def test_doas():
    assert doas.build_doas_argv(doas.Options(username='op', doas_path='/usr/bin/doas'), BOOT) == [
        '/usr/bin/doas', '-u', 'op', '--'] + BOOT


def test_docker():
    assert docker.build_docker_argv(docker.Options(container='c', username='u'), BOOT) == [
        'docker', 'exec', '--interactive', '--user', 'u', 'c'] + BOOT
    assert docker.build_docker_argv(docker.Options(image='img', docker_path='/d'), BOOT) == [
        '/d', 'run', '--interactive', '--rm', 'img'] + BOOT
    with pytest.raises(ValueError, match='container or image'):
        docker.Options()


def test_container_global_and_exec_flags():
    opts = docker.Options(container='c', docker_args=['-H', 'ssh://h'], exec_args=['--privileged'])
    assert docker.build_docker_argv(opts, BOOT) == [
        'docker', '-H', 'ssh://h', 'exec', '--interactive', '--privileged', 'c'] + BOOT
    opts = podman.Options(container='c', podman_args=['--remote'])
    assert podman.build_podman_argv(opts, BOOT) == ['podman', '--remote', 'exec', '--interactive', 'c'] + BOOT
    opts = lxd.Options(container='r:c', lxc_path='incus', exec_args=['--project', 'p'])
    assert lxd.build_lxd_argv(opts, BOOT) == [
        'incus', 'exec', '--mode=non-interactive', '--project', 'p', 'r:c', '--'] + BOOT


def test_methods_declare_their_keywords():
    """ansible_mitogen drops keywords a method's Options does not name; check ours are named."""
    import inspect
    assert {'hostname', 'username', 'ssh_path', 'ssh_args', 'port', 'check_host_keys', 'password',
            'identity_file', 'identities_only', 'compression', 'keepalive_interval', 'keepalive_count',
            'ssh_debug_level'} <= set(inspect.signature(ssh.Options.__init__).parameters)
    assert {'username', 'sudo_path', 'password', 'preserve_env', 'set_home', 'sudo_args', 'login',
            'selinux_role', 'selinux_type'} <= set(inspect.signature(sudo.Options.__init__).parameters)
    assert {'username', 'password', 'su_path', 'password_prompts', 'incorrect_prompts',
            'su_args'} <= set(inspect.signature(su.Options.__init__).parameters)


@pytest.mark.parametrize('method, own', [
    ('podman', {'container', 'podman_path', 'username', 'podman_args'}),
    ('buildah', {'container', 'buildah_path', 'username'}),
    ('lxc', {'container', 'lxc_attach_path'}),
    ('lxd', {'container', 'lxc_path', 'exec_args'}),
    ('jail', {'container', 'jexec_path', 'username'}),
    ('kubectl', {'pod', 'kubectl_path', 'kubectl_args'}),
    ('machinectl', {'container', 'machinectl_path', 'username'}),
    ('docker', {'container', 'image', 'docker_path', 'username', 'docker_args', 'exec_args'}),
    ('su', {'username', 'password', 'su_path', 'password_prompts', 'incorrect_prompts', 'su_args'}),
    ('doas', {'username', 'password', 'doas_path', 'password_prompts', 'incorrect_prompts'}),
])
def test_shared_bases_add_no_keywords(method, own):
    """The bases' own parameters (target, tool_path, ...) are positional-only:
    a method accepts exactly its documented keywords plus the generic ones."""
    import inspect

    accepted = set()
    for klass in inspect.getmro(mitogen.parent.import_method(method).Options):
        init = klass.__dict__.get('__init__')
        if init is not None:
            params = inspect.signature(init).parameters.values()
            accepted.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    generic = set(list(inspect.signature(mitogen.parent.Options.__init__).parameters)[1:])
    assert accepted - {'self'} == own | generic
    options_class = mitogen.parent.import_method(method).Options
    with pytest.raises(TypeError, match='tool_path'):
        options_class(**{sorted(own - {'password', 'username'})[0]: 'x', 'tool_path': '/x'})


def test_container_names_and_missing_target():
    from mitogen import kubectl, lxc
    assert lxc.Connection(lxc.Options('web1'), None).default_name() == 'lxc.web1'
    assert kubectl.Connection(kubectl.Options(pod='api-0'), None).default_name() == 'kubectl.api-0'
    with pytest.raises(ValueError, match='kubectl: pod is required'):
        kubectl.Options()
    with pytest.raises(ValueError, match='lxc: container is required'):
        lxc.Options()


def test_become_messages_name_the_tool():
    conn = doas.Connection(doas.Options(username='op'), None)
    assert conn.default_name() == 'doas.op'
    assert conn.password_required_msg == 'doas password is required (doas asked for one, none was given)'
    assert conn.password_incorrect_msg == 'doas password is incorrect'
    # sudo keeps its own prompt regexes (no prompt texts to configure).
    assert sudo.Connection(sudo.Options(), None).password_patterns == sudo.Connection.password_patterns
