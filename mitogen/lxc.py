"""Connection method "lxc": a child inside a classic LXC container (lxc-attach).

Runs in the context that calls router.lxc() (controller or a via= context on
the container host).  The environment is cleared so the host's variables do
not leak into the container.
"""
import mitogen.parent
from mitogen.ssh import eof_message_naming_python


class Options(mitogen.parent.Options):
    def __init__(self, container=None, lxc_attach_path=None, **kwargs):
        super().__init__(**kwargs)
        if not container:
            raise ValueError('lxc: container is required')
        self.container = container
        self.lxc_attach_path = lxc_attach_path or 'lxc-attach'


def build_lxc_argv(opts: Options, command: list) -> list:
    return [opts.lxc_attach_path, '--clear-env', '--name', opts.container, '--'] + list(command)


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'lxc'
    eof_message = eof_message_naming_python
    failure_patterns = (
        (rb'Failed to get init pid|is not running', 'lxc: the container is not running'),
        (rb'Failed to attach to container|Operation not permitted', 'lxc-attach failed'),
    )

    def get_argv(self):
        return build_lxc_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'lxc.%s' % (self.options.container,)
