"""Connection method "lxc": a child inside a classic LXC container (lxc-attach).

Runs in the context that calls router.lxc() (controller or a via= context on
the container host).  The environment is cleared so the host's variables do
not leak into the container.
"""
from mitogen.methodbase import ContainerOptions, ToolConnection


class Options(ContainerOptions):
    method = 'lxc'
    tool = 'lxc-attach'

    def __init__(self, container=None, lxc_attach_path=None, **kwargs):
        super().__init__(container, lxc_attach_path, **kwargs)


def build_lxc_argv(opts: Options, command: list) -> list:
    return [opts.tool_path, '--clear-env', '--name', opts.target, '--'] + list(command)


class Connection(ToolConnection):
    options_class = Options
    build_argv = staticmethod(build_lxc_argv)
    failure_patterns = (
        (rb'Failed to get init pid|is not running', 'lxc: the container is not running'),
        (rb'Failed to attach to container|Operation not permitted', 'lxc-attach failed'),
    )
