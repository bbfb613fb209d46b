"""Connection type accel.mitogen.mitogen_local: entry point into ansible_mitogen (task workers).

Same class as ansible_mitogen/plugins/connection/mitogen_local.py; its options (the
builtin plugin's plus ours) come from the accel.mitogen.ours doc fragment.
"""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_local
short_description: the controller itself, tasks run in a persistent Mitogen interpreter
extends_documentation_fragment: [accel.mitogen.ours.connection_mitogen_local]
"""

Connection = entry_point(__name__)
