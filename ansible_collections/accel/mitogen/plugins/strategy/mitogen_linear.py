"""Strategy accel.mitogen.mitogen_linear: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_linear
short_description: builtin linear strategy with tasks run over Mitogen
extends_documentation_fragment: accel.mitogen.ours.strategy_mitogen_linear
"""
StrategyModule = entry_point(__name__)
