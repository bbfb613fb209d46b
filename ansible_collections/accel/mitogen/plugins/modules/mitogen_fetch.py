"""Documentation of action accel.mitogen.mitogen_fetch, for ansible-doc -t module.

Never executed: a task of this name runs the action plugin of the same
name (plugins/action/).  Its options are the builtin fetch module's, read
from ansible-core at run time by the doc fragment.
"""

DOCUMENTATION = """
module: mitogen_fetch
short_description: fetch a file from the target, streamed in chunks
extends_documentation_fragment: accel.mitogen.ours.action_mitogen_fetch
"""

EXAMPLES = """
- name: Bring a log file back to the controller
  accel.mitogen.mitogen_fetch:
    src: /var/log/syslog
    dest: fetched/
"""

RETURN = """
dest:
  description: Where the file was written on the controller.
  returned: success
  type: str
"""
