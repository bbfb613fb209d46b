"""Strategy accel.mitogen.mitogen_host_pinned: entry point into ansible_mitogen (controller).

Same class as the legacy-path plugin ansible_mitogen/plugins/strategy/mitogen_host_pinned.py,
so it activates the accelerator exactly like that one.
"""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: mitogen_host_pinned
short_description: builtin host_pinned strategy with tasks run over Mitogen
extends_documentation_fragment: [accel.mitogen.ours.strategy_mitogen_host_pinned]
"""

StrategyModule = entry_point(__name__)
