"""Connection type `mitogen_podman`: a running Podman container (podman exec), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `containers.podman.podman` here).  The hop comes from
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
name: mitogen_podman
short_description: Mitogen interpreter inside a running Podman container
description:
  - Runs tasks in a persistent Python interpreter inside a running Podman container (podman exec), reached
    through the Mitogen multiplexer of the current run.
  - Reads the same variables as containers.podman.podman (and C(podman)), which it replaces under our strategies.
  - With C(mitogen_via) the container tool runs on that host instead of
    the controller; every container behind one host shares its connection.
author: ansible_mitogen
options:
  remote_addr:
    description: Name of the container (or pod, jail, machine) to enter.
    vars: [{name: ansible_host}, {name: inventory_hostname}, {name: ansible_podman_host}]
  remote_user:
    description: User inside the container (C(podman exec --user)).
    vars: [{name: ansible_user}]
    env: [{name: ANSIBLE_REMOTE_USER}]
    ini: [{section: defaults, key: remote_user}]
    cli: [{name: user}]
    keyword: [{name: remote_user}]
  podman_extra_args:
    description: Extra arguments placed before C(exec), e.g. C(--remote).
    default: ""
    vars: [{name: ansible_podman_extra_args}]
    env: [{name: ANSIBLE_PODMAN_EXTRA_ARGS}]
    ini: [{section: defaults, key: podman_extra_args}]
  podman_executable:
    description: Path of the C(podman) program (also C(mitogen_podman_path)).
    vars: [{name: ansible_podman_executable}]
    env: [{name: ANSIBLE_PODMAN_EXECUTABLE}]
  mitogen_podman_path:
    description: Path of the C(podman) program on the controller or the mitogen_via host.
    vars: [{name: mitogen_podman_path}]
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

ansible_mitogen.connection.register_options("mitogen_podman", "local", DOCUMENTATION)


class Connection(ansible_mitogen.connection.Connection):
    transport = "mitogen_podman"
    login_method = "podman"
