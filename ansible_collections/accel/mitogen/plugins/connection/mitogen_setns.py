"""Connection type accel.mitogen.mitogen_setns: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_setns
short_description: Mitogen interpreter inside a container's namespaces, entered directly
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_setns
"""
Connection = entry_point(__name__)
