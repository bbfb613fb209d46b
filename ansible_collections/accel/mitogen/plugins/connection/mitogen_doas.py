"""Connection type accel.mitogen.mitogen_doas: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_doas
short_description: doas as a connection hop, over Mitogen
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_doas
"""
Connection = entry_point(__name__)
