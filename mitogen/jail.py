"""Connection method "jail": a child inside a FreeBSD jail (jexec).

Runs in the context that calls router.jail() (controller or a via= context
on the jail host).  With username=, jexec -U runs the child as that user of
the jail's own password database.
"""
import mitogen.parent
from mitogen.ssh import eof_message_naming_python


class Options(mitogen.parent.Options):
    def __init__(self, container=None, jexec_path=None, username=None, **kwargs):
        super().__init__(**kwargs)
        if not container:
            raise ValueError('jail: container is required')
        self.container = container
        self.jexec_path = jexec_path or 'jexec'
        self.username = username


def build_jail_argv(opts: Options, command: list) -> list:
    user = ['-U', opts.username] if opts.username else []
    return [opts.jexec_path] + user + [opts.container] + list(command)


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'jail'
    eof_message = eof_message_naming_python
    failure_patterns = (
        (rb'jexec: jail .* not found|No such process', 'jail: no such jail'),
    )

    def get_argv(self):
        return build_jail_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'jail.%s' % (self.options.container,)
