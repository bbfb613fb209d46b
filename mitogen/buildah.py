"""Connection method "buildah": a child inside a Buildah working container.

Runs in the context that calls router.buildah() (controller or a via=
context with a buildah CLI); `buildah run CONTAINER -- CMD` passes stdin and
stdout through, which carries the boot protocol.
"""
from mitogen.methodbase import ContainerOptions, ToolConnection, flag_with_user


class Options(ContainerOptions):
    method = 'buildah'

    def __init__(self, container=None, buildah_path=None, username=None, **kwargs):
        super().__init__(container, buildah_path, username, **kwargs)


def build_buildah_argv(opts: Options, command: list) -> list:
    return [opts.tool_path, 'run'] + flag_with_user(opts, '--user') + [opts.target, '--'] + list(command)


class Connection(ToolConnection):
    options_class = Options
    build_argv = staticmethod(build_buildah_argv)
    failure_patterns = (
        (rb'container not known|error reading build container', 'buildah: no such container'),
        (rb'unknown user|no matching entries in passwd', 'buildah: unknown user in the container'),
    )
