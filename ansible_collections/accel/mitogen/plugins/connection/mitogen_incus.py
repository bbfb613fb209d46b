"""Connection type accel.mitogen.mitogen_incus: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_incus
short_description: Mitogen interpreter inside an Incus instance
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_incus
"""
Connection = entry_point(__name__)
