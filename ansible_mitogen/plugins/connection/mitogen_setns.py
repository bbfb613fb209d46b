"""Connection type `mitogen_setns`: a container's namespaces, entered directly (setns, no container CLI; root on the container host), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects nothing (named directly) here).  The hop comes from
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
name: mitogen_setns
short_description: Mitogen interpreter inside a container's namespaces, entered directly
description:
  - Runs tasks in a persistent Python interpreter inside a container's namespaces, entered directly (setns, no container CLI; root on the container host), reached
    through the Mitogen multiplexer of the current run.
  - No vanilla plugin of this name exists; variables follow the other container types.
  - With C(mitogen_via) the container tool runs on that host instead of
    the controller; every container behind one host shares its connection.
author: ansible_mitogen
options:
  remote_addr:
    description: Name of the container (or pod, jail, machine) to enter.
    vars: [{name: inventory_hostname}, {name: ansible_host}]
  remote_user:
    description: User inside the container, looked up in its own passwd file.
    vars: [{name: ansible_user}]
  mitogen_kind:
    description: Which tool names the container's first process, C(docker), C(lxc), C(lxd) or C(machinectl).
    default: docker
    vars: [{name: mitogen_kind}]
  lxc_info_path:
    description: Path of C(lxc-info) (kind C(lxc)).
    vars: [{name: mitogen_lxc_info_path}]
  mitogen_host_python:
    description: The container has no Python; start the host's interpreter
      (C(ansible_python_interpreter) names it) inside the container's
      namespaces through setns. Needs root on the container host.
    type: bool
    default: false
    vars: [{name: mitogen_host_python}]
  mitogen_docker_path:
    description: Path of the C(docker) program on the controller or the mitogen_via host.
    vars: [{name: mitogen_docker_path}]
  mitogen_lxc_path:
    description: Path of the C(lxc) program on the controller or the mitogen_via host.
    vars: [{name: mitogen_lxc_path}]
  mitogen_machinectl_path:
    description: Path of the C(machinectl) program on the controller or the mitogen_via host.
    vars: [{name: mitogen_machinectl_path}]
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

ansible_mitogen.connection.register_options("mitogen_setns", "local", DOCUMENTATION)


class Connection(ansible_mitogen.connection.Connection):
    transport = "mitogen_setns"
    login_method = "setns"
