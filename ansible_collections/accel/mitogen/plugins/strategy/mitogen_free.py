"""Strategy accel.mitogen.mitogen_free: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_free
short_description: builtin free strategy with tasks run over Mitogen
extends_documentation_fragment: accel.mitogen.ours.strategy_mitogen_free
"""
StrategyModule = entry_point(__name__)
