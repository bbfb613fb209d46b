"""Connection method "jail": a child inside a FreeBSD jail (jexec).

Runs in the context that calls router.jail() (controller or a via= context
on the jail host).  With username=, jexec -U runs the child as that user of
the jail's own password database.
"""
from mitogen.methodbase import ContainerOptions, ToolConnection, flag_with_user


class Options(ContainerOptions):
    method = 'jail'
    tool = 'jexec'

    def __init__(self, container=None, jexec_path=None, username=None, **kwargs):
        super().__init__(container, jexec_path, username, **kwargs)


def build_jail_argv(opts: Options, command: list) -> list:
    return [opts.tool_path] + flag_with_user(opts, '-U') + [opts.target] + list(command)


class Connection(ToolConnection):
    options_class = Options
    build_argv = staticmethod(build_jail_argv)
    failure_patterns = (
        (rb'jexec: jail .* not found|No such process', 'jail: no such jail'),
    )
