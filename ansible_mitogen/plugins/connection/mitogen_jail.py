"""Connection type `mitogen_jail`: a FreeBSD jail (jexec), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `community.general.jail` here).  The hop comes from
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
name: mitogen_jail
short_description: Mitogen interpreter inside a FreeBSD jail
description:
  - Runs tasks in a persistent Python interpreter inside a FreeBSD jail (jexec), reached
    through the Mitogen multiplexer of the current run.
  - Reads the same variables as community.general.jail (and C(jail)), which it replaces under our strategies.
  - With C(mitogen_via) the container tool runs on that host instead of
    the controller; every container behind one host shares its connection.
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

ansible_mitogen.connection.register_options("mitogen_jail", "local", DOCUMENTATION)


class Connection(ansible_mitogen.connection.Connection):
    transport = "mitogen_jail"
    login_method = "jail"
