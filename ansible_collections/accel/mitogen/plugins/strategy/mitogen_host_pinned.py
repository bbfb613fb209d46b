"""Strategy accel.mitogen.mitogen_host_pinned: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_host_pinned
short_description: builtin host_pinned strategy with tasks run over Mitogen
extends_documentation_fragment: accel.mitogen.ours.strategy_mitogen_host_pinned
"""
StrategyModule = entry_point(__name__)
