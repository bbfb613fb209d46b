"""Connection method "podman": a child inside a running Podman container.

Runs in the context that calls router.podman() (controller or a via=
context with a podman CLI); `podman exec --interactive` carries the boot
protocol over the tool's stdin/stdout.
"""
from mitogen.methodbase import ContainerOptions, ToolConnection, flag_with_user


class Options(ContainerOptions):
    method = 'podman'

    def __init__(self, container=None, podman_path=None, username=None, podman_args=None, **kwargs):
        super().__init__(container, podman_path, username, **kwargs)
        #: Global flags before `exec` (--remote, --url, --connection, ...).
        self.podman_args = list(podman_args or ())


def build_podman_argv(opts: Options, command: list) -> list:
    return ([opts.tool_path] + opts.podman_args + ['exec', '--interactive'] + flag_with_user(opts, '--user')
            + [opts.target] + list(command))


class Connection(ToolConnection):
    options_class = Options
    build_argv = staticmethod(build_podman_argv)
    failure_patterns = (
        (rb'no such container|no container with name or ID', 'podman: no such container'),
        (rb'container state improper|is not running', 'podman: the container is not running'),
        (rb'unable to find user|no matching entries in passwd', 'podman: unknown user in the container'),
    )
