"""Old playbooks keep working: 2.9 syntax and behaviours on modern ansible-core.

Controller-side.  `install()` is the one entry, called by
ansible_mitogen.controller.activation when our vars plugin `accel.mitogen.accelerate`
loads (before ansible-core parses the playbook) and again when a play
starts accelerated; vanilla runs never import this package.  One module per
concern:

- include: the `include:` keyword at task and play level (always on);
- squash: one package-module call for a loop over package names
  (opt-in, `mitogen_squash_actions` / `[accel_mitogen] squash_actions`);
- settings: where those opt-in settings are read;
- deprecated: restores behaviours ansible-core 2.19 - 2.21 deprecated
  behind an escape hatch (opt-in, `[accel_mitogen] restore_deprecated`).

Group names with hyphens or dots and `hash_behaviour = merge` need no
code: every supported ansible-core still honours them (docs/compat.md
names the settings, tests/ansible/compat/ proves it).  docs/compat.md is
the user-facing list.
"""
from ansible_mitogen.compat import deprecated, include, squash


def install() -> None:
    """Install every compatibility hook; idempotent."""
    include.install()
    squash.install()
    deprecated.install()
