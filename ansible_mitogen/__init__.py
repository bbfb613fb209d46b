"""Ansible plugin pack: runs Ansible tasks over persistent Mitogen contexts.

Imported by the strategy and connection plugins in `plugins/` (controller,
multiplexer and task-worker processes).  Only `runner.py`, `target.py`
and `task_wire.py` travel to targets.  `plugin_paths()` tells users what to put in ansible.cfg.
"""
import os
from typing import Dict

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
PLUGINS_DIR = os.path.join(PACKAGE_DIR, "plugins")


def plugin_paths() -> Dict[str, str]:
    """Directory of each plugin type we ship, keyed by ansible.cfg setting."""
    return {
        "strategy_plugins": os.path.join(PLUGINS_DIR, "strategy"),
        "connection_plugins": os.path.join(PLUGINS_DIR, "connection"),
        "action_plugins": os.path.join(PLUGINS_DIR, "action"),
    }
