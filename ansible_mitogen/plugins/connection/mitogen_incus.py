"""Connection type `mitogen_incus`: an Incus instance (incus exec), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `community.general.incus` here).  The hop comes from
ansible_mitogen/transport_config.py (CONTAINER_KINDS), the rest from
ansible_mitogen/connection.py.
"""
import os
import sys

try:
    import ansible_mitogen.connection
except ImportError:  # running from a checkout that is not on sys.path
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
    import ansible_mitogen.connection

DOCUMENTATION = """
name: mitogen_incus
short_description: Mitogen interpreter inside an Incus instance
description:
  - Runs tasks in a persistent Python interpreter inside an Incus instance (incus exec), reached
    through the Mitogen multiplexer of the current run.
  - Reads the same variables as community.general.incus (and C(incus)), which it replaces under our strategies.
  - With C(mitogen_via) the container tool runs on that host instead of
    the controller; every container behind one host shares its connection.
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
  mitogen_via:
    description: Reach this host through another inventory host, C(host) or
      C(become_user@host); comma-separated for longer chains.
    vars: [{name: mitogen_via}]
  mitogen_mask_remote_name:
    description: Show target processes as C(python(mitogen:ansible)) instead
      of naming the controller user, host and pid.
    type: bool
    vars: [{name: mitogen_mask_remote_name}]
  mitogen_task_isolation:
    description: C(fork) runs each task in a fresh fork of the interpreter.
    vars: [{name: mitogen_task_isolation}]
"""

ansible_mitogen.connection.register_options("mitogen_incus", "local", DOCUMENTATION)


class Connection(ansible_mitogen.connection.Connection):
    transport = "mitogen_incus"
    login_method = "incus"
