"""Connection type accel.mitogen.mitogen_machinectl: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_machinectl
short_description: Mitogen interpreter inside a systemd-nspawn machine
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_machinectl
"""
Connection = entry_point(__name__)
