"""Which ansible-core releases and Pythons we support: the one home of that rule.

Read by `doctor` (controller, no target involved), by the packaging test
that checks pyproject's dependency range, and by the version-matrix tests
that run playbooks under every supported ansible-core.  Pure data plus two
small predicates; imports nothing of Ansible.
"""
from typing import Dict, NamedTuple, Optional, Tuple

Version = Tuple[int, int]

# Our own code that travels to targets needs Python 3.8 (docs/HACKING.md),
# even where ansible-core itself still accepts 3.7 targets.
OUR_TARGET_MIN: Version = (3, 8)


class Support(NamedTuple):
    """Python ranges (inclusive, major.minor) for one ansible-core release."""

    controller: Tuple[Version, Version]
    target: Tuple[Version, Version]


# ansible-core's own support matrix, narrowed by OUR_TARGET_MIN.
ANSIBLE_CORE: Dict[Version, Support] = {
    (2, 17): Support(controller=((3, 10), (3, 12)), target=((3, 8), (3, 12))),
    (2, 18): Support(controller=((3, 11), (3, 13)), target=((3, 8), (3, 13))),
    (2, 19): Support(controller=((3, 11), (3, 13)), target=((3, 8), (3, 13))),
    (2, 20): Support(controller=((3, 12), (3, 14)), target=((3, 9), (3, 14))),
    (2, 21): Support(controller=((3, 12), (3, 14)), target=((3, 9), (3, 14))),
}
OLDEST: Version = min(ANSIBLE_CORE)
NEWEST: Version = max(ANSIBLE_CORE)


def parse(version: str) -> Version:
    """(major, minor) of '2.21.5', '2.19.0rc1', '3.13.0'."""
    parts = version.split(".")
    minor = "".join(ch for ch in parts[1] if ch.isdigit()) if len(parts) > 1 else "0"
    return int(parts[0]), int(minor or 0)


def dependency_spec() -> str:
    """The `ansible-core` requirement pyproject.toml must carry."""
    return "ansible-core>=%d.%d,<%d.%d" % (OLDEST + (NEWEST[0], NEWEST[1] + 1))


def controller_problem(ansible_core: str, python: str) -> Optional[str]:
    """None if this ansible-core on this controller Python is supported, else why not."""
    support = ANSIBLE_CORE.get(parse(ansible_core))
    if support is None:
        return "ansible-core %s is not supported (supported: %s)" % (ansible_core, supported_range())
    low, high = support.controller
    if not low <= parse(python) <= high:
        return "ansible-core %s supports controller Python %s to %s, not %s" % (
            ansible_core, _dotted(low), _dotted(high), python)
    return None


def supported_range() -> str:
    return "%s to %s" % (_dotted(OLDEST), _dotted(NEWEST))


def _dotted(version: Version) -> str:
    return "%d.%d" % version
