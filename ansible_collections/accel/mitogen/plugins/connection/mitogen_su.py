"""Connection type accel.mitogen.mitogen_su: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_su
short_description: su as a connection hop, over Mitogen
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_su
"""
Connection = entry_point(__name__)
