"""Connection type accel.mitogen.mitogen_lxd: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_lxd
short_description: Mitogen interpreter inside an LXD instance
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_lxd
"""
Connection = entry_point(__name__)
