"""Connection type accel.mitogen.mitogen_kubectl: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_kubectl
short_description: Mitogen interpreter inside a Kubernetes pod
extends_documentation_fragment: accel.mitogen.ours.connection_mitogen_kubectl
"""
Connection = entry_point(__name__)
