"""Strategy accel.mitogen.mitogen_linear: entry point into ansible_mitogen (controller).

Same class as the legacy-path plugin ansible_mitogen/plugins/strategy/mitogen_linear.py,
so it activates the accelerator exactly like that one.
"""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_linear
short_description: builtin linear strategy with tasks run over Mitogen
extends_documentation_fragment: [accel.mitogen.ours.strategy_mitogen_linear]
"""

StrategyModule = entry_point(__name__)
