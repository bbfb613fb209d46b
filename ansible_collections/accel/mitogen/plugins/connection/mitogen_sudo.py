"""Connection type accel.mitogen.mitogen_sudo: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_sudo
short_description: sudo as a connection hop, over Mitogen
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_sudo
"""
Connection = entry_point(__name__)
