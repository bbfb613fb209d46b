"""Connection type accel.mitogen.mitogen_buildah: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_buildah
short_description: Mitogen interpreter inside a Buildah working container
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_buildah
"""
Connection = entry_point(__name__)
