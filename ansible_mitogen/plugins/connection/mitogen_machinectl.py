"""Connection type `mitogen_machinectl`: a systemd-nspawn machine (machinectl shell), over Mitogen.

Loaded by ansible's connection loader in task workers.

Generated from ansible_mitogen/connection_types.yml ("machinectl") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_machinectl
short_description: Mitogen interpreter inside a systemd-nspawn machine
description:
  - Runs tasks in a persistent Mitogen interpreter inside a systemd-nspawn
    machine (machinectl shell).
author: ansible_mitogen
options:
  remote_addr:
    description: Name of the container (or pod, jail, machine) to enter.
    vars: [{name: inventory_hostname}, {name: ansible_host}]
  remote_user:
    description: User inside the machine (C(machinectl shell --uid)).
    vars: [{name: ansible_user}]
  mitogen_machinectl_path:
    description: Path of the C(machinectl) program on the controller or the mitogen_via host.
    vars: [{name: mitogen_machinectl_path}]
"""

Connection = ansible_mitogen.executor.connection.connection_type("machinectl", __name__)
