"""Connection type `mitogen_podman`: a running Podman container (podman exec), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `containers.podman.podman` here).

Generated from ansible_mitogen/connection_types.yml ("podman") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_podman
short_description: Mitogen interpreter inside a running Podman container
description:
  - Runs tasks in a persistent Mitogen interpreter inside a running Podman
    container (podman exec), reading the same variables as
    containers.podman.podman (and C(podman)), which it replaces under our
    strategies.
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
"""

Connection = ansible_mitogen.executor.connection.connection_type("podman", __name__)
