"""Connection method "machinectl": a child inside a systemd-nspawn machine.

Runs in the context that calls router.machinectl() (controller or a via=
context on the machine's host).  `machinectl shell` always gives the
command a pseudo-terminal, so the boot command is wrapped in `/bin/sh -c
'stty raw -echo; exec python ...'`: the terminal is switched to raw mode
before the first stage announces itself, and only then does the payload
(binary) flow.
"""
from mitogen.methodbase import ContainerOptions, ToolConnection
from mitogen.parent import shell_join

RAW_TTY_WRAPPER = 'stty raw -echo 2>/dev/null; exec '


class Options(ContainerOptions):
    method = 'machinectl'

    def __init__(self, container=None, machinectl_path=None, username=None, **kwargs):
        super().__init__(container, machinectl_path, username, **kwargs)


def build_machinectl_argv(opts: Options, command: list) -> list:
    user = ['--uid=%s' % (opts.username,)] if opts.username else []
    # machinectl shell needs an absolute program path.
    shell = ['/bin/sh', '-c', RAW_TTY_WRAPPER + shell_join(command)]
    return [opts.tool_path, 'shell', '--quiet'] + user + [opts.target] + shell


class Connection(ToolConnection):
    options_class = Options
    build_argv = staticmethod(build_machinectl_argv)
    failure_patterns = (
        (rb'No machine .* known|Failed to get shell PTY', 'machinectl: no such running machine'),
    )
