"""Documentation of action accel.mitogen.mitogen_get_stack, for ansible-doc -t module.

Never executed: a task of this name runs the action plugin of the same
name (plugins/action/), which ansible prefers over a module.
"""

DOCUMENTATION = """
module: mitogen_get_stack
short_description: the chain of connections used to reach a host, for debugging
extends_documentation_fragment: accel.mitogen.ours.action_mitogen_get_stack
"""

EXAMPLES = """
- name: Show how this host is reached
  accel.mitogen.mitogen_get_stack:
  register: stack

- ansible.builtin.debug:
    var: stack.result
"""

RETURN = """
result:
  description: One entry per hop, nearest the controller first.
  returned: under one of our connections (skipped otherwise)
  type: list
  elements: dict
"""
