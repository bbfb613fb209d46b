"""Strategy accel.mitogen.mitogen: entry point into ansible_mitogen (controller).

Same class as the legacy-path plugin ansible_mitogen/plugins/strategy/mitogen.py,
so it activates the accelerator exactly like that one.
"""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen
short_description: short name of mitogen_linear
extends_documentation_fragment: [accel.mitogen.ours.strategy_mitogen]
"""

StrategyModule = entry_point(__name__)
