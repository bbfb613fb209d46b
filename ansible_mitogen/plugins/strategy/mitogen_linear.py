"""Strategy `mitogen_linear`: ansible's builtin `linear` strategy, accelerated.

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

from ansible.plugins.strategy.linear import StrategyModule as _Builtin

DOCUMENTATION = """
name: mitogen_linear
short_description: builtin linear strategy running tasks over Mitogen
description:
  - Same scheduling as ansible.builtin.linear; connections, module execution and
    file transfer go through persistent Mitogen contexts.
author: ansible_mitogen
"""

StrategyModule = ansible_mitogen.controller.strategy.wrap(_Builtin)
