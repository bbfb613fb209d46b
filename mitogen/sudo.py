"""Connection method "sudo": a child running as another user on the same machine.

Runs in the context that calls router.sudo() -- the controller, or a remote
context reached with via= (typically an ssh child).  sudo always gets a
pseudo-terminal as controlling tty, so its password prompt can be answered
and `Defaults requiretty` sudoers entries are satisfied.
"""
from mitogen.methodbase import BecomeConnection, BecomeOptions


class Options(BecomeOptions):
    method = 'sudo'

    def __init__(self, username=None, sudo_path=None, password=None, preserve_env=None,
                 set_home=None, sudo_args=None, login=None, selinux_role=None,
                 selinux_type=None, **kwargs):
        super().__init__(username, sudo_path, password=password, **kwargs)
        self.preserve_env = preserve_env
        self.set_home = set_home
        self.sudo_args = list(sudo_args or ())
        self.login = login
        self.selinux_role = selinux_role
        self.selinux_type = selinux_type


#: (Options attribute, sudo flag) for the boolean switches, in argv order.
SWITCHES = (('preserve_env', '-E'), ('set_home', '-H'), ('login', '-i'))


def build_sudo_argv(opts: Options, command: list) -> list:
    """sudo argv running `command` (an argv list) as opts.username."""
    argv = [opts.tool_path, '-u', opts.username]
    argv += [flag for attr, flag in SWITCHES if getattr(opts, attr)]
    if opts.selinux_role:
        argv += ['-r', opts.selinux_role]
    if opts.selinux_type:
        argv += ['-t', opts.selinux_type]
    return argv + opts.sudo_args + ['--'] + list(command)


class Connection(BecomeConnection):
    options_class = Options
    build_argv = staticmethod(build_sudo_argv)
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
