"""Connection method "ssh": a child on another machine through the OpenSSH client.

Runs on the controller or an intermediary (wherever router.ssh() is called);
it spawns the local `ssh` binary, which starts the boot command through the
remote login shell.  The argv is built like a careful user would type it;
output of ssh is scanned for password prompts and well-known failures so
that every error has a clear message and arrives in bounded time.
"""
import logging

import mitogen.parent
from mitogen.methodbase import eof_message_naming_python

#: check_host_keys value -> ssh -o options.
HOST_KEY_OPTIONS = {
    'enforce': ['-o', 'StrictHostKeyChecking=yes'],
    # accept-new records unknown keys but still refuses a changed key.
    'accept': ['-o', 'StrictHostKeyChecking=accept-new'],
    'ignore': ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
               '-o', 'GlobalKnownHostsFile=/dev/null'],
}


class Options(mitogen.parent.Options):
    def __init__(self, hostname=None, username=None, ssh_path=None, ssh_args=None, port=None,
                 check_host_keys='enforce', password=None, identity_file=None,
                 identities_only=True, compression=True, keepalive_interval=15,
                 keepalive_count=3, ssh_debug_level=None, **kwargs):
        super().__init__(password=password, **kwargs)
        if not hostname:
            raise ValueError('ssh: hostname is required')
        if check_host_keys not in HOST_KEY_OPTIONS:
            raise ValueError('ssh: check_host_keys must be one of %s, not %r'
                             % (', '.join(sorted(HOST_KEY_OPTIONS)), check_host_keys))
        self.hostname = hostname
        self.username = username
        self.ssh_path = ssh_path or 'ssh'
        self.ssh_args = list(ssh_args or ())
        self.port = port
        self.check_host_keys = check_host_keys
        self.identity_file = identity_file
        self.identities_only = identities_only
        self.compression = compression
        self.keepalive_interval = keepalive_interval
        self.keepalive_count = keepalive_count
        self.ssh_debug_level = ssh_debug_level


def build_ssh_argv(opts: Options, remote_command: str) -> list:
    """ssh argv for `opts` running `remote_command` (one sh string) remotely.

    User ssh_args come first: for -o options the first value ssh sees wins,
    so they override every default chosen below.
    """
    argv = [opts.ssh_path] + opts.ssh_args
    if opts.ssh_debug_level:
        argv.append('-' + 'v' * min(int(opts.ssh_debug_level), 3))
    else:
        # Keeps banners and "Permanently added" notes out of the boot output.
        argv += ['-o', 'LogLevel=ERROR']
    if opts.username:
        argv += ['-l', opts.username]
    if opts.port:
        argv += ['-p', str(opts.port)]
    if opts.identity_file:
        argv += ['-i', opts.identity_file]
        if opts.identities_only:
            argv += ['-o', 'IdentitiesOnly=yes']
    if opts.compression:
        argv += ['-o', 'Compression=yes']
    if opts.keepalive_interval:
        argv += ['-o', 'ServerAliveInterval=%d' % int(opts.keepalive_interval),
                 '-o', 'ServerAliveCountMax=%d' % int(opts.keepalive_count)]
    if opts.password is None:
        # No one could answer a prompt: fail at once instead of hanging.
        argv += ['-o', 'BatchMode=yes']
    else:
        # A refused password makes ssh prompt again: the second prompt is
        # how the password is recognised as incorrect.
        argv += ['-o', 'BatchMode=no', '-o', 'PreferredAuthentications=keyboard-interactive,password']
        if not opts.identity_file:
            argv += ['-o', 'PubkeyAuthentication=no']
    argv += HOST_KEY_OPTIONS[opts.check_host_keys]
    # ssh's own TCP connect timeout; the overall deadline is ours.
    argv += ['-o', 'ConnectTimeout=%d' % max(1, int(opts.connect_timeout))]
    # '--': a host name starting with '-' is a host name, never an option.
    argv += ['--', opts.hostname, remote_command]
    return argv


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'ssh'
    eof_message = eof_message_naming_python
    password_patterns = (
        rb"password:",                       # "user@host's password:", "Password:"
        rb"enter passphrase for key",        # encrypted identity file
        rb"enter pin for ",                  # PKCS#11 token (PKCS11Provider)
    )
    failure_patterns = (
        (rb'Host key verification failed', 'ssh host key verification failed (unknown or changed host key)'),
        (rb'REMOTE HOST IDENTIFICATION HAS CHANGED', 'ssh host key verification failed (the host key changed)'),
        (rb'Permission denied \(', 'ssh authentication failed'),
        (rb'Too many authentication failures', 'ssh authentication failed'),
        (rb'Connection refused', 'ssh connection refused'),
        (rb'Connection timed out|Operation timed out', 'ssh connection timed out'),
        (rb'No route to host|Network is unreachable', 'ssh host unreachable'),
        (rb'Could not resolve hostname', 'ssh could not resolve the host name'),
        (rb'This account is currently not available', 'ssh login refused: the account has no usable shell'),
        (rb'kex_exchange_identification|Connection closed by remote host|banner exchange',
         'ssh connection closed by the server before login'),
    )
    password_required_msg = 'ssh password is required (the server asked for one, none was given)'
    password_incorrect_msg = 'ssh password is incorrect'

    @property
    def use_tty(self):
        # ssh prompts on /dev/tty; without a password BatchMode forbids prompts.
        return self.options.password is not None

    @property
    def eager_payload(self):
        # BatchMode: ssh reads no answer from us, the remote command gets
        # our stdin as it is (the way Ansible's pipelining sends a module)
        return self.options.password is None

    @property
    def diag_verbose(self):
        # ssh -v output the user asked for: logged as debug information
        # (shown at -vvv), not as warnings
        return bool(self.options.ssh_debug_level)

    @property
    def diag_log_level(self):
        return logging.INFO if self.options.ssh_debug_level else logging.WARNING

    def get_argv(self):
        return build_ssh_argv(self.options, mitogen.parent.shell_join(self.get_boot_command()))

    def default_name(self):
        host = self.options.hostname
        if self.options.username:
            host = '%s@%s' % (self.options.username, host)
        if self.options.port:
            host = '%s:%s' % (host, self.options.port)
        return 'ssh.%s' % (host,)
