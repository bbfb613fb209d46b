"""Connection type accel.mitogen.mitogen_podman: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_podman
short_description: Mitogen interpreter inside a running Podman container
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_podman
"""
Connection = entry_point(__name__)
