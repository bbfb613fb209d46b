"""Ansible plugin pack: runs Ansible tasks over persistent Mitogen contexts.

Imported by the plugins in `plugins/`.  Laid out by where code runs:
`controller/` and `engine/` in the strategy process, `multiplexer/` in the
connection multiplexers, `executor/` wherever a task runs on the
controller, `remote/` on targets (the only code that travels, with this
file).  `plugin_paths()` tells users what to put in ansible.cfg.
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
