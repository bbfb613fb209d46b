"""Connection type accel.mitogen.mitogen_jail: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_jail
short_description: Mitogen interpreter inside a FreeBSD jail
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_jail
"""
Connection = entry_point(__name__)
