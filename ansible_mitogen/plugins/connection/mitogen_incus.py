"""Connection type `mitogen_incus`: an Incus instance (incus exec), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `community.general.incus` here).

Generated from ansible_mitogen/connection_types.yml ("incus") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_incus
short_description: Mitogen interpreter inside an Incus instance
description:
  - Runs tasks in a persistent Mitogen interpreter inside an Incus instance
    (incus exec), reading the same variables as community.general.incus (and
    C(incus)), which it replaces under our strategies.
author: ansible_mitogen
options:
  remote_addr:
    description: Name of the container (or pod, jail, machine) to enter.
    vars: [{name: inventory_hostname}, {name: ansible_host}, {name: ansible_incus_host}]
  remote_user:
    description: User to run as inside the instance; other than root, a C(su) hop follows the C(incus exec).
    vars: [{name: ansible_user}]
  remote:
    description: Incus remote holding the instance; other than C(local) the instance is addressed as C(remote:name).
    default: local
    vars: [{name: ansible_incus_remote}]
  project:
    description: Incus project of the instance (C(incus exec --project)).
    default: default
    vars: [{name: ansible_incus_project}]
  incus_path:
    description: Path of the C(incus) client on the controller or the mitogen_via host.
    vars: [{name: mitogen_incus_path}]
"""

Connection = ansible_mitogen.executor.connection.connection_type("incus", __name__)
