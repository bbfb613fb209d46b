"""Connection method "podman": a child inside a running Podman container.

Runs in the context that calls router.podman() (controller or a via=
context with a podman CLI); `podman exec --interactive` carries the boot
protocol over the tool's stdin/stdout.
"""
import mitogen.parent
from mitogen.ssh import eof_message_naming_python


class Options(mitogen.parent.Options):
    def __init__(self, container=None, podman_path=None, username=None, **kwargs):
        super().__init__(**kwargs)
        if not container:
            raise ValueError('podman: container is required')
        self.container = container
        self.podman_path = podman_path or 'podman'
        self.username = username


def build_podman_argv(opts: Options, command: list) -> list:
    user = ['--user', opts.username] if opts.username else []
    return [opts.podman_path, 'exec', '--interactive'] + user + [opts.container] + list(command)


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'podman'
    eof_message = eof_message_naming_python
    failure_patterns = (
        (rb'no such container|no container with name or ID', 'podman: no such container'),
        (rb'container state improper|is not running', 'podman: the container is not running'),
        (rb'unable to find user|no matching entries in passwd', 'podman: unknown user in the container'),
    )

    def get_argv(self):
        return build_podman_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'podman.%s' % (self.options.container,)
