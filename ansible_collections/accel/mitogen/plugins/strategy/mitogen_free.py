"""Strategy accel.mitogen.mitogen_free: entry point into ansible_mitogen (controller).

Same class as the legacy-path plugin ansible_mitogen/plugins/strategy/mitogen_free.py,
so it activates the accelerator exactly like that one.
"""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_free
short_description: builtin free strategy with tasks run over Mitogen
extends_documentation_fragment: [accel.mitogen.ours.strategy_mitogen_free]
"""

StrategyModule = entry_point(__name__)
