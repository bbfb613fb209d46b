"""Action `mitogen_fetch`: the builtin `fetch`, under its own name.

Runs in the task worker.  Same arguments and results as
`ansible.builtin.fetch`; over our connections the action-plugin mixin
streams the file back from the target in pipelined chunks instead of one
whole-file read.  It exists so the streamed fetch can be named explicitly
(also as `accel.mitogen.mitogen_fetch`); under our strategies plain
`fetch` tasks stream the same way.
"""
from ansible.plugins.action.fetch import ActionModule as BuiltinFetch


class ActionModule(BuiltinFetch):
    pass
