"""Connection method "lxd": a child inside an LXD/Incus instance (`lxc exec`).

Runs in the context that calls router.lxd() (controller or a via= context
with the `lxc` client of LXD).  Non-interactive mode keeps the channel a
plain pipe (no pty), which the boot protocol needs.  The Incus client
shares this command line (lxc_path='incus').
"""
from mitogen.methodbase import ContainerOptions, ToolConnection


class Options(ContainerOptions):
    method = 'lxd'
    tool = 'lxc'

    def __init__(self, container=None, lxc_path=None, exec_args=None, **kwargs):
        super().__init__(container, lxc_path, **kwargs)
        #: Flags of `exec` itself (--project NAME, --env K=V, ...).
        self.exec_args = list(exec_args or ())


def build_lxd_argv(opts: Options, command: list) -> list:
    return [opts.tool_path, 'exec', '--mode=non-interactive'] + opts.exec_args + [opts.target, '--'] + list(command)


class Connection(ToolConnection):
    options_class = Options
    build_argv = staticmethod(build_lxd_argv)
    failure_patterns = (
        (rb'Instance not found|Error: Not Found|Instance is not running|Instance not running',
         'lxd: no such running instance'),
    )
