"""Connection type accel.mitogen.mitogen_lxc: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_lxc
short_description: Mitogen interpreter inside a classic LXC container
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_lxc
"""
Connection = entry_point(__name__)
