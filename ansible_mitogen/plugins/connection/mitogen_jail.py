"""Connection type `mitogen_jail`: a FreeBSD jail (jexec), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `community.general.jail` here).

Generated from ansible_mitogen/connection_types.yml ("jail") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_jail
short_description: Mitogen interpreter inside a FreeBSD jail
description:
  - Runs tasks in a persistent Mitogen interpreter inside a FreeBSD jail
    (jexec), reading the same variables as community.general.jail (and
    C(jail)), which it replaces under our strategies.
author: ansible_mitogen
options:
  remote_addr:
    description: Name of the container (or pod, jail, machine) to enter.
    vars: [{name: inventory_hostname}, {name: ansible_host}, {name: ansible_jail_host}]
  remote_user:
    description: User inside the jail (C(jexec -U)).
    vars: [{name: ansible_user}, {name: ansible_jail_user}]
  mitogen_jexec_path:
    description: Path of the C(jexec) program on the controller or the mitogen_via host.
    vars: [{name: mitogen_jexec_path}]
"""

Connection = ansible_mitogen.executor.connection.connection_type("jail", __name__)
