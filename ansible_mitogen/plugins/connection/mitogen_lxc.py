"""Connection type `mitogen_lxc`: a classic LXC container (lxc-attach), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `community.general.lxc` here).

Generated from ansible_mitogen/connection_types.yml ("lxc") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_lxc
short_description: Mitogen interpreter inside a classic LXC container
description:
  - Runs tasks in a persistent Mitogen interpreter inside a classic LXC
    container (lxc-attach), reading the same variables as
    community.general.lxc (and C(lxc)), which it replaces under our
    strategies.
author: ansible_mitogen
options:
  remote_addr:
    description: Name of the container (or pod, jail, machine) to enter.
    vars: [{name: inventory_hostname}, {name: ansible_host}, {name: ansible_lxc_host}]
  lxc_attach_path:
    description: Path of the C(lxc-attach) program on the controller or the mitogen_via host.
    vars: [{name: mitogen_lxc_attach_path}]
"""

Connection = ansible_mitogen.executor.connection.connection_type("lxc", __name__)
