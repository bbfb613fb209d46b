"""Connection type `mitogen_docker`: a running Docker container (docker exec), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `community.docker.docker` here).

Generated from ansible_mitogen/connection_types.yml ("docker") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_docker
short_description: Mitogen interpreter inside a running Docker container
description:
  - Runs tasks in a persistent Mitogen interpreter inside a running Docker
    container (docker exec), reading the same variables as
    community.docker.docker (and C(docker)), which it replaces under our
    strategies.
author: ansible_mitogen
options:
  remote_addr:
    description: Name of the container (or pod, jail, machine) to enter.
    vars: [{name: inventory_hostname}, {name: ansible_host}, {name: ansible_docker_host}]
  remote_user:
    description: User inside the container (C(docker exec --user)); the image's default user when unset.
    vars: [{name: ansible_user}, {name: ansible_docker_user}]
    env: [{name: ANSIBLE_REMOTE_USER}]
    ini: [{section: defaults, key: remote_user}]
    cli: [{name: user}]
    keyword: [{name: remote_user}]
  docker_extra_args:
    description: Extra arguments placed before C(exec), e.g. C(-H ssh://host) or C(--context name).
    default: ""
    vars: [{name: ansible_docker_extra_args}]
    ini: [{section: docker_connection, key: extra_cli_args}]
  container_timeout:
    description: Seconds the container tool may take to start our interpreter
      (30 more are allowed for Python to boot).
    type: int
    default: 10
    vars: [{name: ansible_docker_timeout}]
    env: [{name: ANSIBLE_TIMEOUT}, {name: ANSIBLE_DOCKER_TIMEOUT}]
    ini: [{section: defaults, key: timeout}, {section: docker_connection, key: timeout}]
    cli: [{name: timeout}]
  extra_env:
    description: Environment variables set for the interpreter (C(docker exec --env)).
    type: dict
    vars: [{name: ansible_docker_extra_env}]
  working_dir:
    description: Working directory of the interpreter (C(docker exec --workdir)).
    vars: [{name: ansible_docker_working_dir}]
    env: [{name: ANSIBLE_DOCKER_WORKING_DIR}]
    ini: [{section: docker_connection, key: working_dir}]
  privileged:
    description: Run with extended privileges (C(docker exec --privileged)).
    type: bool
    default: false
    vars: [{name: ansible_docker_privileged}]
    env: [{name: ANSIBLE_DOCKER_PRIVILEGED}]
    ini: [{section: docker_connection, key: privileged}]
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
"""

Connection = ansible_mitogen.executor.connection.connection_type("docker", __name__)
