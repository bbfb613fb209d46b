"""Where the compatibility settings are read: the one home of their names.

Controller-side, read by ansible_mitogen.compat's modules.  A setting is a
play, inventory or extra variable `mitogen_<name>` (per host, wins) or a
key `<name>` under `[accel_mitogen]` in the ansible.cfg in use.
"""
import configparser
import functools
from typing import Any, Mapping, Optional

SECTION = "accel_mitogen"
SQUASH_ACTIONS = "squash_actions"
RESTORE_DEPRECATED = "restore_deprecated"


@functools.lru_cache(maxsize=None)
def _ansible_cfg() -> configparser.ConfigParser:
    from ansible import constants as C

    parser = configparser.ConfigParser(interpolation=None)
    if C.CONFIG_FILE:
        parser.read(C.CONFIG_FILE)
    return parser


def from_config(name: str) -> Optional[str]:
    """`name` under [accel_mitogen] in ansible.cfg, else None."""
    parser = _ansible_cfg()
    if parser.has_option(SECTION, name):
        return parser.get(SECTION, name)
    return None


def lookup(name: str, variables: Optional[Mapping[str, Any]] = None) -> Any:
    """The variable mitogen_<name> if `variables` hold it, else the ansible.cfg key, else None."""
    if variables is not None and "mitogen_" + name in variables:
        return variables["mitogen_" + name]
    return from_config(name)
