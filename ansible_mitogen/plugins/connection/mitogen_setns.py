"""Connection type `mitogen_setns`: a container's namespaces, entered directly (setns, no container CLI; root on the container host), over Mitogen.

Loaded by ansible's connection loader in task workers.

Generated from ansible_mitogen/connection_types.yml ("setns") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_setns
short_description: Mitogen interpreter inside a container's namespaces, entered directly
description:
  - Runs tasks in a persistent Mitogen interpreter inside a container's
    namespaces, entered directly (setns, no container CLI; root on the
    container host).
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
    description: For containers without Python, run the interpreter of the container host
      (named by C(ansible_python_interpreter)) in the container.
    type: bool
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
"""

Connection = ansible_mitogen.executor.connection.connection_type("setns", __name__)
