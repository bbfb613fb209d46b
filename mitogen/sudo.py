"""Connection method "sudo": a child running as another user on the same machine.

Runs in the context that calls router.sudo() -- the controller, or a remote
context reached with via= (typically an ssh child).  sudo always gets a
pseudo-terminal as controlling tty, so its password prompt can be answered
and `Defaults requiretty` sudoers entries are satisfied.
"""
import mitogen.core
import mitogen.parent
from mitogen.ssh import eof_message_naming_python


class Options(mitogen.parent.Options):
    def __init__(self, username=None, sudo_path=None, password=None, preserve_env=None,
                 set_home=None, sudo_args=None, login=None, selinux_role=None,
                 selinux_type=None, **kwargs):
        if password is not None:
            password = mitogen.core.Secret(password)
        super().__init__(password=password, **kwargs)
        self.username = username or 'root'
        self.sudo_path = sudo_path or 'sudo'
        self.preserve_env = preserve_env
        self.set_home = set_home
        self.sudo_args = list(sudo_args or ())
        self.login = login
        self.selinux_role = selinux_role
        self.selinux_type = selinux_type


def build_sudo_argv(opts: Options, command: list) -> list:
    """sudo argv running `command` (an argv list) as opts.username."""
    argv = [opts.sudo_path, '-u', opts.username]
    if opts.preserve_env:
        argv.append('-E')
    if opts.set_home:
        argv.append('-H')
    if opts.login:
        argv.append('-i')
    if opts.selinux_role:
        argv += ['-r', opts.selinux_role]
    if opts.selinux_type:
        argv += ['-t', opts.selinux_type]
    return argv + opts.sudo_args + ['--'] + list(command)


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'sudo'
    eof_message = eof_message_naming_python
    use_tty = True
    password_patterns = (
        rb'\[sudo\] password for [^:]*:',
        rb'password( for [^:]*)?:',
    )
    failure_patterns = (
        (rb'is not in the sudoers file|is not allowed to execute|may not run sudo',
         'sudo refused: the user may not run this command'),
        (rb'unknown user', 'sudo: unknown target user'),
        (rb'incorrect password attempt', 'sudo password is incorrect'),
        (rb'you must have a tty', 'sudo requires a tty'),
        (rb'a password is required', 'sudo password is required'),
    )
    password_required_msg = 'sudo password is required (sudo asked for one, none was given)'
    password_incorrect_msg = 'sudo password is incorrect'

    def get_argv(self):
        return build_sudo_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'sudo.%s' % (self.options.username,)
