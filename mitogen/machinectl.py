"""Connection method "machinectl": a child inside a systemd-nspawn machine.

Runs in the context that calls router.machinectl() (controller or a via=
context on the machine's host).  `machinectl shell` always gives the
command a pseudo-terminal, so the boot command is wrapped in `/bin/sh -c
'stty raw -echo; exec python ...'`: the terminal is switched to raw mode
before the first stage announces itself, and only then does the payload
(binary) flow.
"""
import mitogen.parent
from mitogen.ssh import eof_message_naming_python

RAW_TTY_WRAPPER = 'stty raw -echo 2>/dev/null; exec '


class Options(mitogen.parent.Options):
    def __init__(self, container=None, machinectl_path=None, username=None, **kwargs):
        super().__init__(**kwargs)
        if not container:
            raise ValueError('machinectl: container is required')
        self.container = container
        self.machinectl_path = machinectl_path or 'machinectl'
        self.username = username


def build_machinectl_argv(opts: Options, command: list) -> list:
    user = ['--uid=%s' % (opts.username,)] if opts.username else []
    script = RAW_TTY_WRAPPER + mitogen.parent.shell_join(command)
    # machinectl shell needs an absolute program path.
    return [opts.machinectl_path, 'shell', '--quiet'] + user + [opts.container, '/bin/sh', '-c', script]


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'machinectl'
    eof_message = eof_message_naming_python
    failure_patterns = (
        (rb'No machine .* known|Failed to get shell PTY', 'machinectl: no such running machine'),
    )

    def get_argv(self):
        return build_machinectl_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'machinectl.%s' % (self.options.container,)
