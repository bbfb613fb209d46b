"""Action accel.mitogen.mitogen_get_stack: entry point into ansible_mitogen (task workers).

Same class as ansible_mitogen/plugins/action/mitogen_get_stack.py.
"""
from ansible_mitogen.collection import entry_point

ActionModule = entry_point(__name__)
