"""Connection method "lxd": a child inside an LXD/Incus instance (`lxc exec`).

Runs in the context that calls router.lxd() (controller or a via= context
with the `lxc` client of LXD).  Non-interactive mode keeps the channel a
plain pipe (no pty), which the boot protocol needs.
"""
import mitogen.parent
from mitogen.ssh import eof_message_naming_python


class Options(mitogen.parent.Options):
    def __init__(self, container=None, lxc_path=None, **kwargs):
        super().__init__(**kwargs)
        if not container:
            raise ValueError('lxd: container is required')
        self.container = container
        self.lxc_path = lxc_path or 'lxc'


def build_lxd_argv(opts: Options, command: list) -> list:
    return [opts.lxc_path, 'exec', '--mode=non-interactive', opts.container, '--'] + list(command)


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'lxd'
    eof_message = eof_message_naming_python
    failure_patterns = (
        (rb'Instance not found|Error: Not Found|Instance is not running|Instance not running', 'lxd: no such running instance'),
    )

    def get_argv(self):
        return build_lxd_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'lxd.%s' % (self.options.container,)
