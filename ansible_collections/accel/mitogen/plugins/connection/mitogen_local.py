"""Connection type accel.mitogen.mitogen_local: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_local
short_description: the controller itself, tasks run in a persistent Mitogen interpreter
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_local
"""
Connection = entry_point(__name__)
