"""Connection type accel.mitogen.mitogen_docker: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_docker
short_description: Mitogen interpreter inside a running Docker container
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_docker
"""
Connection = entry_point(__name__)
