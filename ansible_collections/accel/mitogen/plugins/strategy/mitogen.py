"""Strategy accel.mitogen.mitogen: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen
short_description: short name of mitogen_linear
extends_documentation_fragment: accel.mitogen.ours.strategy_mitogen
"""
StrategyModule = entry_point(__name__)
