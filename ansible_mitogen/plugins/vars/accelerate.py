"""Vars plugin `accel.mitogen.accelerate`: the entry point without a strategy plugin.

Loaded by ansible-core's vars loader in the controller while the inventory
is read (`vars_plugins_enabled = host_group_vars, accel.mitogen.accelerate`),
before the playbook's strategy is loaded.  Instantiating it makes the
builtin `linear`, `free` and `host_pinned` strategies load as our wrapped
strategy (ansible_mitogen/controller/loaders.py), which activates everything when the
play starts.  It contributes no variables.  Reached through
ansible_collections/accel/mitogen/plugins/vars/accelerate.py.
"""
from typing import Any, Dict

from ansible.plugins.vars import BaseVarsPlugin

from ansible_mitogen.controller import activation

DOCUMENTATION = """
name: accelerate
short_description: run the builtin strategies over Mitogen, no strategy plugin needed
description:
  - Enabling this vars plugin makes the builtin C(linear), C(free) and C(host_pinned)
    strategies run accelerated, exactly as the accel.mitogen.mitogen_* strategy plugins
    do, without configuring a third-party strategy (which ansible-core deprecates).
  - It contributes no variables. It needs an inventory file or directory, since
    ansible-core runs no vars plugin for a comma-separated host list.
author: ansible_mitogen
"""


class VarsModule(BaseVarsPlugin):
    is_stateless = True  # one instance per run; get_vars answers from nothing

    def __init__(self) -> None:
        super().__init__()
        activation.use_builtin_strategies()

    def get_vars(self, loader: Any, path: Any, entities: Any, cache: bool = True) -> Dict[str, Any]:
        return {}
