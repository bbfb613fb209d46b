"""Connection method "buildah": a child inside a Buildah working container.

Runs in the context that calls router.buildah() (controller or a via=
context with a buildah CLI); `buildah run CONTAINER -- CMD` passes stdin and
stdout through, which carries the boot protocol.
"""
import mitogen.parent
from mitogen.ssh import eof_message_naming_python


class Options(mitogen.parent.Options):
    def __init__(self, container=None, buildah_path=None, username=None, **kwargs):
        super().__init__(**kwargs)
        if not container:
            raise ValueError('buildah: container is required')
        self.container = container
        self.buildah_path = buildah_path or 'buildah'
        self.username = username


def build_buildah_argv(opts: Options, command: list) -> list:
    user = ['--user', opts.username] if opts.username else []
    return [opts.buildah_path, 'run'] + user + [opts.container, '--'] + list(command)


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'buildah'
    eof_message = eof_message_naming_python
    failure_patterns = (
        (rb'container not known|error reading build container', 'buildah: no such container'),
        (rb'unknown user|no matching entries in passwd', 'buildah: unknown user in the container'),
    )

    def get_argv(self):
        return build_buildah_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'buildah.%s' % (self.options.container,)
