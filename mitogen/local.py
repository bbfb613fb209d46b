"""Connection method "local": a new interpreter on this machine.

Runs on the controller or an intermediary (wherever router.local() is
called); the child is a plain ``python -c`` process with no wrapper.
"""
import sys

import mitogen.parent


class Options(mitogen.parent.Options):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.python_path is None:
            self.python_path = [sys.executable]


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'local'
