"""Connection type accel.mitogen.mitogen_ssh: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_ssh
short_description: ssh to the target, tasks run in a persistent Mitogen interpreter
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_ssh
"""
Connection = entry_point(__name__)
