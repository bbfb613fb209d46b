"""Connection type accel.mitogen.mitogen_ssh: entry point into ansible_mitogen (task workers).

Same class as ansible_mitogen/plugins/connection/mitogen_ssh.py; its options (the
builtin plugin's plus ours) come from the accel.mitogen.ours doc fragment.
"""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_ssh
short_description: ssh to the target, tasks run in a persistent Mitogen interpreter
extends_documentation_fragment: [accel.mitogen.ours.connection_mitogen_ssh]
"""

Connection = entry_point(__name__)
