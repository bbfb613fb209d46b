"""Connection type `mitogen_lxd`: an LXD instance (lxc exec), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `community.general.lxd` here).

Generated from ansible_mitogen/connection_types.yml ("lxd") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_lxd
short_description: Mitogen interpreter inside an LXD instance
description:
  - Runs tasks in a persistent Mitogen interpreter inside an LXD instance
    (lxc exec), reading the same variables as community.general.lxd (and
    C(lxd)), which it replaces under our strategies.
author: ansible_mitogen
options:
  remote_addr:
    description: Name of the container (or pod, jail, machine) to enter.
    vars: [{name: inventory_hostname}, {name: ansible_host}, {name: ansible_lxd_host}]
  remote_user:
    description: User to run as inside the instance; other than root, a C(su) hop follows the C(lxc exec).
    vars: [{name: ansible_user}]
  remote:
    description: LXD remote holding the instance; other than C(local) the instance is addressed as C(remote:name).
    default: local
    vars: [{name: ansible_lxd_remote}]
  project:
    description: LXD project of the instance (C(lxc exec --project)).
    vars: [{name: ansible_lxd_project}]
  lxc_path:
    description: Path of the LXD client C(lxc) on the controller or the mitogen_via host.
    vars: [{name: mitogen_lxc_path}]
"""

Connection = ansible_mitogen.executor.connection.connection_type("lxd", __name__)
