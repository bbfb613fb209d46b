"""Vars plugin accel.mitogen.accelerate: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: accelerate
short_description: run the builtin strategies over Mitogen, no strategy plugin needed
extends_documentation_fragment: accel.mitogen.ours.vars_accelerate
"""
VarsModule = entry_point(__name__)
