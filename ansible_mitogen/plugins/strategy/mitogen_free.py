"""Strategy `mitogen_free`: ansible's builtin `free` strategy, accelerated.

Loaded by ansible's strategy loader in the controller; see
ansible_mitogen/controller/strategy.py for what the wrapper does.
"""
import os
import sys

try:
    import ansible_mitogen.controller.strategy
except ImportError:  # running from a checkout that is not on sys.path
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
    import ansible_mitogen.controller.strategy

from ansible.plugins.strategy.free import StrategyModule as _Builtin

DOCUMENTATION = """
name: mitogen_free
short_description: builtin free strategy running tasks over Mitogen
description:
  - Same scheduling as ansible.builtin.free; connections, module execution and
    file transfer go through persistent Mitogen contexts.
author: ansible_mitogen
"""

StrategyModule = ansible_mitogen.controller.strategy.wrap(_Builtin)
